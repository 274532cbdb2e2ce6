"""A look-alike of click-stream analytics over Kinesis (a route puts records on a stream; a function the
stream triggers posts results back): the Lambda service polls each shard of the embedded stream, invokes
the function with Lambda's Kinesis record shape and retries a failed batch until MaximumRetryAttempts.
End to end over a real WebSocket, in both isolations."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "click_stream" / "template.yaml"


def _clicks_back(ws, count: int) -> list[dict]:
    got: list[dict] = []
    while len(got) < count:
        got += json.loads(ws.recv())
    return got


def test_clicks_put_on_the_stream_come_back_as_kinesis_records(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        for target in ("home", "pricing", "signup"):
            ws.send(json.dumps({"action": "click", "target": target}))
        clicks = _clicks_back(ws, 3)
    finally:
        ws.close()
    assert sorted(c["target"] for c in clicks) == ["home", "pricing", "signup"]
    assert len({c["partitionKey"] for c in clicks}) == 1  # one partition key: one shard, in its order
    sequence = [int(c["eventID"].split(":")[1]) for c in clicks]
    assert sequence == sorted(sequence)
    for click in clicks:
        assert click["eventName"] == "aws:kinesis:record" and click["eventSource"] == "aws:kinesis"
        assert click["schema"] == "1.0" and isinstance(click["arrived"], float)
        assert re.fullmatch(r"shardId-\d{12}:\d+", click["eventID"])
        stream = r"arn:aws:kinesis:us-east-1:\d{12}:stream/.*ClickStream-[0-9A-F]{12}"  # as CFN names it
        assert re.fullmatch(stream, click["eventSourceARN"])
        assert re.fullmatch(r"arn:aws:iam::\d{12}:role/.*TallyFunctionRole.*", click["invokeIdentityArn"])
    assert not any("warning:" in line and "Clicks" in line for line in gw.logs)  # this mapping runs


def test_a_failing_batch_is_retried_then_dropped_and_the_shard_moves_on(gw):
    def drops() -> list[str]:
        return [line for line in gw.logs if "dropped a batch" in line]

    before = len(drops())
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "click", "target": "broken", "fail": True}))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(drops()) == before:
            time.sleep(0.05)
        ws.send(json.dumps({"action": "click", "target": "after"}))
        clicks = _clicks_back(ws, 1)
    finally:
        ws.close()
    assert [c["target"] for c in clicks] == ["after"]
    dropped = drops()[before:]
    expected = "[TallyFunctionClicks] dropped a batch of 1 records after 2 attempts:"
    assert dropped and dropped[0].startswith(expected)
    assert len([line for line in gw.logs if "cannot tally" in line and "[ERROR]" in line]) >= 2
