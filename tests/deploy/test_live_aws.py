"""The real thing: deploy a uniquely named stack, marco → polo through ``wsapp connect``, destroy.

Runs only where the SDK finds AWS credentials, and costs a few cents of Lambda, API Gateway and
DynamoDB usage; the stack is deleted even when the test fails.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import boto3
import pytest

from wsapp.auth import issue_token
from wsapp.cli import main

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(boto3.session.Session().get_credentials() is None, reason="needs AWS credentials"),
    pytest.mark.timeout(1800),
]


def test_a_deployed_stack_answers_marco_with_polo(capsys):
    stack = f"wsapp-smoke-{uuid.uuid4().hex[:8]}"
    secret = secrets.token_urlsafe(48)
    template = ["--template", str(ROOT / "template.yaml")]
    try:
        assert main(["deploy", "--stack-name", stack, *template, "--parameter", f"TokenSecret={secret}"]) == 0
        out = capsys.readouterr().out
        assert secret not in out
        url = next(line.split()[1] for line in out.splitlines() if line.startswith("WebSocketURL "))
        token = issue_token("smoke-test", secret=secret, ttl=600)
        marco = ["--send", '{"action": "marco"}', "--expect", "polo", "--timeout", "30"]
        assert main(["connect", url, "--token", token, *marco]) == 0
        # Without a token the authorizer answers Unauthorized, which API Gateway turns into a 401.
        assert main(["connect", url, "--timeout", "30"]) == 2
        assert "handshake rejected: HTTP 401" in capsys.readouterr().err
    finally:
        assert main(["destroy", "--stack-name", stack]) == 0
