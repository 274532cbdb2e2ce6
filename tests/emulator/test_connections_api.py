"""Reference §9.8 / §6: the @connections Management API through boto3 and raw HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

import aiohttp
import pytest
import websocket
from emukit import DEADLINE, close_code, connection_id_of, open_ws, signed_headers, wait_until
from yarl import URL


@pytest.fixture
def conn(lab):
    before = set(lab.connection_ids)
    ws = open_ws(lab)
    cid = connection_id_of(lab, ws, before)
    yield ws, cid
    ws.close()


def run(coro):
    return asyncio.run(coro)


async def raw(method: str, url: str, body: bytes = b"", *, sign: bool = True) -> tuple[int, dict, bytes]:
    """One HTTP request with the path exactly as given (no re-encoding), optionally SigV4-signed."""
    headers = signed_headers(None, method, url, body) if sign else {}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DEADLINE)) as session,
        session.request(method, URL(url, encoded=True), data=body, headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.read()


def test_post_to_connection_answers_200_and_the_client_receives_the_frame(conn, lab_management):
    ws, cid = conn
    answer = lab_management.post_to_connection(ConnectionId=cid, Data=b'{"hello": "client"}')
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ws.recv() == '{"hello": "client"}'


def test_post_of_exactly_131072_bytes_is_accepted(conn, lab_management):
    ws, cid = conn
    lab_management.post_to_connection(ConnectionId=cid, Data=b"x" * 131_072)
    assert ws.recv() == "x" * 131_072


def test_post_over_131072_bytes_is_413_payload_too_large(conn, lab_management):
    _, cid = conn
    with pytest.raises(lab_management.exceptions.PayloadTooLargeException) as caught:
        lab_management.post_to_connection(ConnectionId=cid, Data=b"x" * 131_073)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_get_connection_answers_connected_at_identity_and_last_active_at(conn, lab_management):
    _, cid = conn
    answer = lab_management.get_connection(ConnectionId=cid)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["Identity"] == {"SourceIp": "127.0.0.1"}  # no User-Agent was sent
    now = datetime.now(UTC)
    assert abs((now - answer["ConnectedAt"]).total_seconds()) < 60
    assert answer["LastActiveAt"] >= answer["ConnectedAt"]


def test_get_connection_wire_format_is_iso8601_with_milliseconds(lab, conn):
    _, cid = conn
    status, _, body = run(raw("GET", f"{lab.management_endpoint}/@connections/{cid}"))
    assert status == 200
    data = json.loads(body)
    assert set(data) == {"connectedAt", "identity", "lastActiveAt"}
    for key in ("connectedAt", "lastActiveAt"):
        datetime.strptime(data[key], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert len(data[key]) == 24  # three fraction digits


def test_delete_connection_is_204_client_sees_1000_and_disconnect_gets_closed_normally(
    conn, lab_management, captured
):
    ws, cid = conn
    answer = lab_management.delete_connection(ConnectionId=cid)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert close_code(ws) == 1000
    ctx = captured.wait("DISCONNECT", cid)["requestContext"]
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (1000, "Connection Closed Normally")
    with pytest.raises(lab_management.exceptions.GoneException):
        lab_management.get_connection(ConnectionId=cid)


@pytest.mark.parametrize("operation", ["post_to_connection", "get_connection", "delete_connection"])
def test_unknown_connection_raises_gone_exception_in_boto3(lab_management, operation):
    args = {"ConnectionId": "AAAAAAAAAAAAAAA="}
    if operation == "post_to_connection":
        args["Data"] = b"x"
    with pytest.raises(lab_management.exceptions.GoneException) as caught:
        getattr(lab_management, operation)(**args)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_unknown_connection_is_raw_410_with_error_type_header_and_empty_body(lab):
    status, headers, body = run(raw("POST", f"{lab.management_endpoint}/@connections/AAAAAAAAAAAAAAA=", b"x"))
    assert status == 410
    assert headers["x-amzn-ErrorType"] == "GoneException"
    assert body == b""


def test_percent_encoded_at_sign_and_equals_sign_in_the_path_are_accepted(lab, conn):
    ws, cid = conn
    encoded = cid.replace("=", "%3D")
    url = f"{lab.management_endpoint}/%40connections/{encoded}"
    status, _, _ = run(raw("POST", url, b"via an encoded path"))
    assert status == 200
    assert ws.recv() == "via an encoded path"
    status, _, body = run(raw("GET", url))
    assert status == 200 and json.loads(body)["identity"]["sourceIp"] == "127.0.0.1"


def test_unsigned_request_is_403_forbidden(lab, conn):
    _, cid = conn
    status, headers, _ = run(raw("POST", f"{lab.management_endpoint}/@connections/{cid}", b"x", sign=False))
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_wrong_stage_is_403_forbidden(lab, conn):
    _, cid = conn
    url = f"http://{lab.host}:{lab.port}/nostage/@connections/{cid}"
    status, headers, body = run(raw("GET", url))
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "ForbiddenException"
    assert json.loads(body) == {"message": "Forbidden"}


def test_an_empty_segment_before_connections_is_the_same_call(lab, conn):
    # What the AWS SDK for JavaScript v3 sends for an endpoint ending in "/" (Behaviour, UNCONFIRMED).
    ws, cid = conn
    status, _, _ = run(raw("POST", f"{lab.management_endpoint}//@connections/{cid}", b"two slashes"))
    assert status == 200 and ws.recv() == "two slashes"
    status, _, body = run(raw("GET", f"{lab.management_endpoint}///@connections/{cid}"))
    assert status == 200 and json.loads(body)["identity"]["sourceIp"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "accepted", "expected"),
    [
        ("/prod/@connections/a%3D", True, "a="),
        ("/prod//@connections/a%3D?x=1", True, "a="),
        ("/prod//@connections/a%3D", False, None),
        ("/prod/%40connections/a", True, "a"),
        ("//prod/@connections/a", True, None),
        ("/prod/@connections/", True, None),
        ("/prod//", True, None),
        ("/other//@connections/a", True, None),
    ],
)  # fmt: skip
def test_which_paths_name_a_connection(path, accepted, expected):
    from wsapp.emulator import Behaviour, Limits
    from wsapp.emulator.apigateway.connections import Registry
    from wsapp.emulator.apigateway.management_api import ManagementApi

    behaviour = Behaviour(empty_segment_before_connections=accepted)
    api = ManagementApi(
        "prod", Registry(), None, limits=Limits(), behaviour=behaviour, clock=lambda: 0, credentials=None
    )
    assert api.connection_id_of(path) == expected


def test_management_calls_are_410_while_connect_is_still_running(lab, lab_management):
    before = set(lab.connection_ids)
    opened: list[websocket.WebSocket] = []
    opener = threading.Thread(
        target=lambda: opened.append(open_ws(lab, "auth=allow&connect=sleep&seconds=1")), daemon=True
    )
    opener.start()
    cid = next(iter(wait_until(lambda: set(lab.connection_ids) - before, what="a pending connection")))
    with pytest.raises(lab_management.exceptions.GoneException):
        lab_management.post_to_connection(ConnectionId=cid, Data=b"too early")
    with pytest.raises(lab_management.exceptions.GoneException):
        lab_management.get_connection(ConnectionId=cid)
    opener.join(DEADLINE)
    assert opened, "the handshake did not complete"
    ws = opened[0]
    try:
        lab_management.post_to_connection(ConnectionId=cid, Data=b"now open")
        assert ws.recv() == "now open"
    finally:
        ws.close()


def test_connect_handler_posting_to_its_own_connection_gets_gone_exception(lab, captured):
    before = set(lab.connection_ids)
    ws = open_ws(lab, "auth=allow&connect=postself")
    cid = connection_id_of(lab, ws, before)
    ws.close()
    assert captured.wait("POSTSELF", cid)["outcome"] == "GoneException"


def test_message_handler_posting_through_boto3_reaches_the_client(conn):
    ws, _ = conn
    ws.send(json.dumps({"action": "post"}))
    assert ws.recv() == "posted by the handler"
