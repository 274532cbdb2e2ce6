"""Structured JSON logs (aws-lambda-powertools Logger), keyed by request and connection id."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "wsapp"))
