"""A look-alike of work queued through SQS (a route puts a job on a queue; a worker triggered by the
queue posts the result): the Lambda service polls the embedded queue, invokes the worker with Lambda's
SQS record shape, deletes what succeeded and leaves a failed batch to the queue's visibility timeout.
End to end over a real WebSocket, in both isolations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "queue_jobs" / "template.yaml"


def test_a_queued_job_is_done_by_the_worker_the_queue_triggers(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "submit", "text": "queued work"}))
        result = json.loads(ws.recv())
    finally:
        ws.close()
    assert result["result"] == "QUEUED WORK" and result["received"] == 1
    assert result["source"] == "aws:sqs"
    assert re.fullmatch(r"arn:aws:sqs:us-east-1:\d{12}:.*JobsQueue.*", result["queueArn"])


def test_a_failed_job_comes_back_after_the_visibility_timeout_and_is_then_deleted(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "submit", "text": "second try", "kind": "flaky"}))
        result = json.loads(ws.recv())
        ws.settimeout(2.5)  # deleted once it succeeded: it is not delivered again
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()
    finally:
        ws.close()
    assert result["result"] == "SECOND TRY" and result["received"] == 2
    assert any("flaky job: try again" in line for line in gw.logs)
