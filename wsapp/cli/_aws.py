"""What ``wsapp deploy``, ``destroy`` and ``outputs`` share: AWS options and the credentials check."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from wsapp.cli import UsageError

if TYPE_CHECKING:
    from wsapp.deploy.apply import Aws

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack-name", required=True, help="the CloudFormation stack")
    parser.add_argument("--region", help="AWS region (default: the SDK's, else us-east-1)")
    parser.add_argument("--endpoint-url", help="a local AWS emulator such as MiniStack")


def region_of(args: argparse.Namespace) -> str:
    import boto3

    return args.region or boto3.session.Session().region_name or os.environ.get("AWS_REGION") or "us-east-1"


def connect(args: argparse.Namespace, *, poll_seconds: float = 2.0) -> Aws:
    from wsapp.deploy.apply import Aws, NoCredentials

    if args.endpoint_url:
        poll_seconds = 0.2  # a local emulator settles in milliseconds
    try:
        return Aws(region=region_of(args), endpoint_url=args.endpoint_url, poll_seconds=poll_seconds)
    except NoCredentials:
        raise UsageError(NO_CREDENTIALS) from None


def say(line: str) -> None:
    print(line, flush=True)


def print_outputs(outputs: dict[str, str]) -> None:
    width = max((len(k) for k in outputs), default=0)
    for key, value in sorted(outputs.items()):
        print(f"{key:<{width}}  {value}")
    sys.stdout.flush()
