"""Reference §9.5-9.7 / §1.6, §3.1, §5: error frames byte for byte, malformed responses, two-way routes."""

from __future__ import annotations

import json

import pytest
import websocket
from emukit import connection_id_of, open_ws


@pytest.fixture(scope="module")
def conn(lab):
    before = set(lab.connection_ids)
    ws = open_ws(lab)
    cid = connection_id_of(lab, ws, before)
    yield ws, cid
    ws.close()


def expected_frame(message: str, cid: str, rid: str) -> str:
    return f'{{"message": "{message}", "connectionId":"{cid}", "requestId":"{rid}"}}'


def assert_still_open(ws) -> None:
    ws.send(json.dumps({"action": "Ping"}))
    assert json.loads(ws.recv())["requestContext"]["routeKey"] == "Ping"


def error_frame_for(ws, cid, captured, action: str) -> tuple[str, str]:
    """Send ``action``; the frame that comes back and the requestId of the MESSAGE event behind it."""
    marker = f"{action}-{id(ws)}-{len(captured.all())}"
    ws.send(json.dumps({"action": action, "marker": marker}))
    frame = ws.recv()
    events = [e for e in captured.find("MESSAGE", cid) if marker in e["body"]]
    assert len(events) == 1
    return frame, events[0]["requestContext"]["requestId"]


@pytest.mark.parametrize(
    "action", ["boom", "none", "extra"], ids=["handler-raises", "returns-None", "returns-extra-key"]
)
def test_internal_server_error_frame_is_byte_exact_and_the_connection_stays_open(conn, captured, action):
    ws, cid = conn
    frame, rid = error_frame_for(ws, cid, captured, action)
    assert frame == expected_frame("Internal server error", cid, rid)
    assert_still_open(ws)


def test_malformed_proxy_response_is_logged_as_api_gateway_does(lab, conn, captured):
    ws, cid = conn
    _, rid = error_frame_for(ws, cid, captured, "extra")
    assert any(rid in line and "Malformed Lambda proxy response" in line for line in lab.logs), (
        "no configuration-error log line"
    )


def test_integration_timeout_sends_endpoint_request_timed_out_and_stays_open(conn, captured):
    ws, cid = conn
    frame, rid = error_frame_for(ws, cid, captured, "slow")  # TimeoutInMillis 200, handler sleeps 1 s
    assert frame == expected_frame("Endpoint request timed out", cid, rid)
    assert_still_open(ws)


def test_two_way_route_sends_only_the_body_even_with_status_500(conn):
    ws, _ = conn
    ws.send(json.dumps({"action": "status500"}))
    assert ws.recv() == "delivered anyway"


def test_two_way_route_without_body_sends_an_empty_frame(conn):
    ws, _ = conn
    ws.send(json.dumps({"action": "nobody"}))
    assert ws.recv() == ""


def test_one_way_route_sends_nothing_back(conn):
    ws, _ = conn
    ws.send(json.dumps({"action": "oneway"}))
    ws.settimeout(0.5)
    try:
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()
    finally:
        ws.settimeout(5)
    assert_still_open(ws)


def test_repo_ping_route_is_two_way_and_sends_the_body_only(ws_connect):
    ws = ws_connect()
    ws.send(json.dumps({"action": "ping"}))
    reply = json.loads(ws.recv())
    assert reply["action"] == "pong"
    assert "statusCode" not in reply and "body" not in reply
