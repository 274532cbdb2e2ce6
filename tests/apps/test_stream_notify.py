"""A look-alike of the notification fan-out pattern (a function triggered by a table's DynamoDB stream
posts to connections): the Lambda service polls the embedded stream and invokes the function with
Lambda's record shape, retrying a failed batch. End to end over a real WebSocket, in both isolations."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "stream_notify" / "template.yaml"


def test_a_note_written_by_a_route_reaches_its_connection_through_the_stream(gw):
    ws = websocket.create_connection(gw.url, timeout=10)
    try:
        ws.send(json.dumps({"action": "note", "text": "hello from the stream"}))
        message = json.loads(ws.recv())
    finally:
        ws.close()
    assert message["text"] == "hello from the stream"
    assert message["source"] == "aws:dynamodb" and message["created"] is True
    stream = r"arn:aws:dynamodb:us-east-1:\d{12}:table/stream-notify-notes/stream/.+"
    assert re.fullmatch(stream, message["streamArn"])
    assert not any("warning:" in line and "Notes" in line for line in gw.logs)  # this mapping runs


def test_a_failing_batch_is_retried_then_dropped_after_maximum_retry_attempts(gw):
    ws = websocket.create_connection(gw.url, timeout=10)
    try:
        ws.send(json.dumps({"action": "note", "text": "never delivered", "fail": True}))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("dropped a batch" in line for line in gw.logs):
            time.sleep(0.05)
        ws.send(json.dumps({"action": "note", "text": "after the failure"}))
        message = json.loads(ws.recv())  # the shard moved on past the dropped batch
    finally:
        ws.close()
    assert message["text"] == "after the failure"
    dropped = [line for line in gw.logs if "dropped a batch" in line]
    expected = "[FanOutFunctionNotes] dropped a batch of 1 records after 2 attempts:"
    assert dropped and dropped[0].startswith(expected)
    failures = [line for line in gw.logs if "cannot deliver" in line and "[ERROR]" in line]
    assert len(failures) >= 2  # the first attempt and its one retry (MaximumRetryAttempts: 1)
