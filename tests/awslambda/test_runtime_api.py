"""The Runtime API as a runtime sees it: custom runtimes (``provided.al2023``) whose own ``bootstrap``
talks to it over HTTP — a shell script with curl, as in AWS's custom-runtime tutorial, and a Python
script that checks the statuses and bodies the API answers (lambda-runtime-reference §1)."""

from __future__ import annotations

import json
import stat

import pytest
from lifekit import HEADER, connect, function, integration, route

from wsapp.emulator import LocalGateway

SHELL_BOOTSTRAP = r"""#!/bin/bash
# A custom runtime in shell: ask for an event, answer it, forever.
set -euo pipefail
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  headers="$(mktemp)"
  event="$(curl -sS -D "$headers" "$api/invocation/next")"
  request_id="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$headers"
  action="$(printf '%s' "$event" | jq -r '.body | fromjson? | .action // empty')"
  if [ "$action" = "marco" ]; then
    reply='{"statusCode": 200, "body": "{\"action\": \"polo\", \"from\": \"bash\"}"}'
  else
    reply='{"statusCode": 200, "body": "unknown"}'
  fi
  echo "answering $request_id"
  curl -sS -o /dev/null -X POST "$api/invocation/$request_id/response" -d "$reply"
done
"""

PYTHON_BOOTSTRAP = '''#!/usr/bin/env python3
"""A custom runtime that reports what the Runtime API answered it."""
import http.client
import json
import os

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
LAST = {}


def call(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(API, timeout=30)
    connection.request(method, "/2018-06-01/runtime/" + path, body, headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


while True:
    status, headers, raw = call("GET", "invocation/next")
    request_id = headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(raw)
    mode = json.loads(event.get("body") or "{}").get("mode", "report")
    wrong = call("POST", "invocation/not-this-one/response", b"{}")
    report = {
        "next": status,
        "headers": sorted(k for k in headers if k.lower().startswith("lambda-runtime-")),
        "content_type": headers.get("Content-Type"),
        "deadline_ms": int(headers["Lambda-Runtime-Deadline-Ms"]),
        "wrong_id": [wrong[0], json.loads(wrong[2])],
        "last": LAST.copy(),
    }
    if mode == "error":
        error = {"errorMessage": "custom failure", "errorType": "Custom.Failure"}
        answer = call("POST", f"invocation/{request_id}/error", json.dumps(error),
                      {"Lambda-Runtime-Function-Error-Type": "Custom.Failure"})
    elif mode == "big":
        answer = call("POST", f"invocation/{request_id}/response", b"x" * (6 * 1024 * 1024 + 200))
    else:
        body = json.dumps({"statusCode": 200, "body": json.dumps(report)})
        answer = call("POST", f"invocation/{request_id}/response", body)
    again = call("POST", f"invocation/{request_id}/response", b"{}")
    LAST.update(mode=mode, answer=[answer[0], answer[2].decode()], again=[again[0], json.loads(again[2])])
'''


def write_custom(folder, bootstrap: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bootstrap"
    path.write_text(bootstrap)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    text = (
        HEADER
        + function("Fn", "function.handler", timeout=3, runtime="provided.al2023")
        + integration("Integration", "Fn")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def test_a_shell_bootstrap_with_curl_answers_marco_with_polo(tmp_path):
    template = write_custom(tmp_path, SHELL_BOOTSTRAP)
    with LocalGateway(template, dynamodb=False, isolation="process") as gw:
        ws = connect(gw)
        try:
            ws.send(json.dumps({"action": "marco"}))
            assert json.loads(ws.recv()) == {"action": "polo", "from": "bash"}
            ws.send(json.dumps({"action": "marco"}))
            assert json.loads(ws.recv()) == {"action": "polo", "from": "bash"}
        finally:
            ws.close()
        env = gw.runtimes["Fn"].environment
    assert "AWS_EXECUTION_ENV" not in env  # OS-only runtimes have none [AWS-REC §2.1]
    answering = [line for line in gw.logs if "answering" in line]
    assert len(answering) == 2  # its echo lines, each under the request it serves
    assert all(line.endswith("answering " + line.split()[1].rstrip("]")) for line in answering)


def ask(ws, mode: str) -> object:
    ws.send(json.dumps({"mode": mode}))
    text = ws.recv()
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    template = write_custom(tmp_path_factory.mktemp("custom"), PYTHON_BOOTSTRAP)
    with LocalGateway(template, dynamodb=False, isolation="process", concurrency=1) as gw:
        yield gw


def test_next_sends_the_event_with_lambdas_headers(custom):
    import time

    ws = connect(custom)
    try:
        now_ms = time.time() * 1000
        report = ask(ws, "report")
    finally:
        ws.close()
    assert report["next"] == 200
    assert report["content_type"] == "application/json"
    assert report["headers"] == [
        "Lambda-Runtime-Aws-Request-Id",
        "Lambda-Runtime-Deadline-Ms",
        "Lambda-Runtime-Invoked-Function-Arn",
        "Lambda-Runtime-Trace-Id",
    ]
    assert now_ms + 2000 < report["deadline_ms"] <= now_ms + 3100  # Timeout: 3


def test_an_unknown_or_answered_request_id_is_400_invalid_request_id(custom):
    ws = connect(custom)
    try:
        ask(ws, "report")
        report = ask(ws, "report")
    finally:
        ws.close()
    expected = [400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}]
    assert report["wrong_id"] == expected
    assert report["last"]["answer"] == [202, '{"status":"OK"}']
    assert report["last"]["again"] == expected  # a second answer for the same event


def test_an_error_report_reaches_the_caller_as_a_function_error(custom):
    ws = connect(custom)
    try:
        frame = ask(ws, "error")
        report = ask(ws, "report")
    finally:
        ws.close()
    assert frame["message"] == "Internal server error"
    assert report["last"]["answer"] == [202, '{"status":"OK"}']


def test_a_response_over_6_mb_is_413_and_fails_the_invocation(custom):
    ws = connect(custom)
    try:
        frame = ask(ws, "big")
        report = ask(ws, "report")
    finally:
        ws.close()
    assert frame["message"] == "Internal server error"
    status, body = report["last"]["answer"]
    assert status == 413
    assert json.loads(body) == {
        "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "RequestEntityTooLarge",
    }


def test_a_missing_bootstrap_is_one_line_naming_the_function(tmp_path):
    from wsapp.emulator import EmulatorError

    template = write_custom(tmp_path, "")
    (tmp_path / "bootstrap").unlink()
    with pytest.raises(EmulatorError, match=r"^Fn: Runtime provided.al2023 needs an executable `bootstrap`"):
        LocalGateway(template, dynamodb=False, isolation="process").start()


