"""A look-alike of apps whose gateway calls services itself (non-proxy integrations): DynamoDB PutItem
and DeleteItem from VTL templates on $connect/$disconnect, a MOCK answered by its integration response, a
non-proxy Lambda integration with request validation and integration responses selected by status and
by error message, and an asynchronous (``X-Amz-Invocation-Type: 'Event'``) invocation. End to end over
real WebSockets, in both isolations."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "direct_integrations" / "template.yaml"
TABLE = "wsapp-local-sessions"


def _sessions(gw) -> dict[str, dict]:
    items = gw.dynamodb.client("dynamodb", "us-east-1").scan(TableName=TABLE)["Items"]
    return {item["pk"]["S"]: item for item in items}


def _connect(gw, query: str = "") -> tuple[websocket.WebSocket, str]:
    before = set(_sessions(gw))
    ws = websocket.create_connection(gw.url + query, timeout=15, header=["User-Agent: look-alike/1.0 \"q\""])
    ws.send(json.dumps({"type": "ping"}))
    pong = json.loads(ws.recv())
    assert pong["type"] == "pong" and pong["id"] not in before
    return ws, pong["id"]


def test_connect_and_disconnect_write_the_table_through_dynamodb_integrations(gw):
    ws, connection_id = _connect(gw, "?room=blue")
    item = _sessions(gw)[connection_id]
    assert item["room"] == {"S": "blue"}
    assert item["agent"] == {"S": 'look-alike/1.0 "q"'}  # $util.escapeJavaScript kept the JSON valid
    assert abs(int(item["since"]["N"]) - time.time() * 1000) < 60_000  # $context.connectedAt, epoch ms
    ws.close()
    deadline = time.monotonic() + 10
    while connection_id in _sessions(gw) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connection_id not in _sessions(gw)  # DeleteItem ran on $disconnect


def test_a_mock_route_answers_from_its_integration_response_template(gw):
    ws, connection_id = _connect(gw)
    try:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv()) == {"type": "pong", "id": connection_id, "stage": "live", "env": ""}
    finally:
        ws.close()


def test_a_non_proxy_lambda_gets_the_mapped_payload_and_its_answer_is_reshaped(gw):
    ws, _ = _connect(gw)
    try:
        ws.send(json.dumps({"type": "shout", "text": "hello big world"}))
        assert json.loads(ws.recv()) == {"type": "shouted", "text": "HELLO BIG WORLD!", "words": 3}
        # The function's error is matched against /.*quiet.*/ by its message.
        ws.send(json.dumps({"type": "shout", "text": "shh now"}))
        assert json.loads(ws.recv()) == {"type": "refused", "why": "asked to be quiet"}
    finally:
        ws.close()


def test_a_body_its_model_rejects_never_reaches_the_function(gw):
    ws, connection_id = _connect(gw)
    try:
        ws.send(json.dumps({"type": "shout", "text": "x" * 41}))
        frame = json.loads(ws.recv())
    finally:
        ws.close()
    assert frame["message"] == "Invalid request body" and frame["connectionId"] == connection_id
    assert any("does not match model schema" in line and frame["requestId"] in line for line in gw.logs)


def test_an_event_invocation_runs_the_function_asynchronously(gw):
    ws, _ = _connect(gw)
    try:
        ws.send(json.dumps({"type": "later", "note": {"n": 7}}))
        done = json.loads(ws.recv())
    finally:
        ws.close()
    assert done["type"] == "done" and done["note"] == {"n": 7}
    assert any("AWS integration answered 202" in line for line in gw.logs)  # the Invoke API's Event answer


def test_a_route_response_without_a_selection_expression_makes_the_route_two_way(gw):
    ws, connection_id = _connect(gw)
    try:
        ws.send(json.dumps({"type": "whoami"}))
        assert json.loads(ws.recv()) == {"type": "you", "id": connection_id}
    finally:
        ws.close()
