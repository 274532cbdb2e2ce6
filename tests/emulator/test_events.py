"""Reference §9.3 / §9.10 / §1-2, §8: the events handlers receive, key for key, and the id formats."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from emukit import Captured, connection_id_of, open_ws, wait_until, write_echo

from wsapp.emulator import LocalGateway, SteppingClock

CONTEXT_KEYS = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}
CLF = re.compile(r"^\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
DISCONNECT_HEADERS = {"Host", "x-api-key", "X-Forwarded-For", "x-restapi"}
AUTHORIZER_KEYS = {
    "type",
    "methodArn",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "stageVariables",
    "requestContext",
}


def assert_id(value: str) -> None:
    """16 characters of URL-safe base64 that decode to exactly 11 bytes (reference §8)."""
    assert re.fullmatch(r"[A-Za-z0-9_-]{15}=", value), value
    assert value[14] in "AEIMQUYcgkosw048"
    assert len(base64.urlsafe_b64decode(value)) == 11


def message_event(ws, body: str) -> dict:
    """The lab's $default and Ping routes answer with the event they received."""
    ws.send(body)
    return json.loads(ws.recv())


@pytest.fixture(scope="module")
def lifecycle(lab, captured):
    """One lab connection with a query string and a User-Agent: connect, two messages, client close."""
    before = set(lab.connection_ids)
    ws = open_ws(lab, "auth=allow&x=1&x=2", header=["User-Agent: events-test/1.0"])
    cid = connection_id_of(lab, ws, before)
    first = message_event(ws, '{\r\n\t"a": 1\r\n}')
    second = message_event(ws, json.dumps({"action": "Ping"}))
    ws.close()
    return {
        "authorizer": captured.wait("AUTHORIZER", cid),
        "connect": captured.wait("CONNECT", cid),
        "messages": [first, second],
        "disconnect": captured.wait("DISCONNECT", cid),
        "id": cid,
    }


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    """An API whose authorizer has no identity sources, reached without any query string."""
    template = write_echo(tmp_path_factory.mktemp("echo"), "events_echo", with_authorizer=True)
    with LocalGateway(template) as gw:
        yield gw, Captured(template.parent / "events.jsonl")


def test_connect_event_has_headers_query_and_context_but_no_body(lifecycle):
    event = lifecycle["connect"]
    assert set(event) == {
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
        "isBase64Encoded",
    }
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"auth": "allow", "x": "2"}  # the last value wins
    assert event["multiValueQueryStringParameters"] == {"auth": ["allow"], "x": ["1", "2"]}


def test_connect_headers_drop_hop_by_hop_and_add_the_gateway_headers(lifecycle):
    headers = lifecycle["connect"]["headers"]
    lowered = {k.lower() for k in headers}
    assert not lowered & {"connection", "upgrade", "content-length"}
    assert {"Sec-WebSocket-Key", "Sec-WebSocket-Version", "User-Agent"} <= set(headers)
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    # as API Gateway's front end saw the client: wss on 443, whatever the local listener (Behaviour knob)
    assert (headers["X-Forwarded-Port"], headers["X-Forwarded-Proto"]) == ("443", "https")
    assert lifecycle["connect"]["multiValueHeaders"] == {k: [v] for k, v in headers.items()}


def test_connect_event_without_a_query_string_has_no_query_keys(echo):
    gw, captured = echo
    before = set(gw.connection_ids)
    ws = open_ws(gw, "")
    cid = connection_id_of(gw, ws, before)
    ws.close()
    event = captured.wait("CONNECT", cid)
    assert "queryStringParameters" not in event
    assert "multiValueQueryStringParameters" not in event
    assert "stageVariables" not in event  # the stage defines none (UNCONFIRMED; the documented default)


def test_authorizer_event_without_a_query_string_has_empty_maps_and_is_invoked_without_identity_sources(
    echo,
):
    gw, captured = echo
    before = set(gw.connection_ids)
    ws = open_ws(gw, "")
    cid = connection_id_of(gw, ws, before)
    ws.close()
    event = captured.wait("AUTHORIZER", cid)
    assert set(event) == AUTHORIZER_KEYS
    assert event["queryStringParameters"] == {}
    assert event["multiValueQueryStringParameters"] == {}
    assert event["stageVariables"] == {}


def test_authorizer_event_keeps_connection_upgrade_and_content_length(lifecycle):
    event = lifecycle["authorizer"]
    assert set(event) == AUTHORIZER_KEYS
    assert event["type"] == "REQUEST"
    assert event["headers"]["Upgrade"].lower() == "websocket"
    assert event["headers"]["Connection"].lower() == "upgrade"
    assert event["headers"]["content-length"] == "0"
    assert event["queryStringParameters"] == {"auth": "allow", "x": "2"}
    assert event["stageVariables"] == {}


def test_authorizer_method_arn_names_region_account_api_stage_and_connect(lab, lifecycle):
    event = lifecycle["authorizer"]
    ctx = event["requestContext"]
    arn = r"arn:aws:execute-api:us-east-1:\d{12}:[a-z0-9]{10}/prod/\$connect"
    assert re.fullmatch(arn, event["methodArn"])
    assert event["methodArn"].endswith(f":{ctx['apiId']}/prod/$connect")


def test_authorizer_context_matches_connect_context_without_an_authorizer_key(lifecycle):
    auth_ctx = lifecycle["authorizer"]["requestContext"]
    assert set(auth_ctx) == CONTEXT_KEYS
    assert auth_ctx["connectionId"] == lifecycle["connect"]["requestContext"]["connectionId"]
    assert auth_ctx["eventType"] == "CONNECT"


def test_message_event_has_only_request_context_body_and_is_base64_encoded(lifecycle):
    first = lifecycle["messages"][0]
    assert set(first) == {"requestContext", "body", "isBase64Encoded"}
    assert first["body"] == '{\r\n\t"a": 1\r\n}'  # verbatim, whitespace preserved
    assert first["isBase64Encoded"] is False


def test_disconnect_event_has_the_fixed_four_headers_and_the_close_status(lifecycle):
    event = lifecycle["disconnect"]
    assert set(event) == {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"}
    assert set(event["headers"]) == DISCONNECT_HEADERS
    assert event["headers"]["Host"] == event["requestContext"]["domainName"]
    assert {k: v for k, v in event["headers"].items() if k != "Host"} == {
        "x-api-key": "",
        "X-Forwarded-For": "",
        "x-restapi": "",
    }
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    ctx = event["requestContext"]
    assert ctx["disconnectStatusCode"] == 1000
    assert isinstance(ctx["disconnectReason"], str)


def test_request_context_keys_per_event_type(lifecycle):
    connect = lifecycle["connect"]["requestContext"]
    message = lifecycle["messages"][0]["requestContext"]
    disconnect = lifecycle["disconnect"]["requestContext"]
    assert set(connect) == CONTEXT_KEYS | {"authorizer"}
    assert set(message) == CONTEXT_KEYS | {"authorizer", "messageId"}
    assert set(disconnect) == CONTEXT_KEYS | {"authorizer", "disconnectStatusCode", "disconnectReason"}
    assert (connect["eventType"], message["eventType"], disconnect["eventType"]) == (
        "CONNECT",
        "MESSAGE",
        "DISCONNECT",
    )
    assert (connect["routeKey"], disconnect["routeKey"]) == ("$connect", "$disconnect")
    assert {c["messageDirection"] for c in (connect, message, disconnect)} == {"IN"}


def test_ids_are_16_characters_that_decode_to_11_bytes_and_request_id_equals_extended(lifecycle):
    contexts = [lifecycle["connect"]["requestContext"], lifecycle["disconnect"]["requestContext"]]
    contexts += [m["requestContext"] for m in lifecycle["messages"]]
    for ctx in contexts:
        assert_id(ctx["connectionId"])
        assert_id(ctx["requestId"])
        assert ctx["extendedRequestId"] == ctx["requestId"]
        assert re.fullmatch(r"[a-z0-9]{10}", ctx["apiId"])
    for message in lifecycle["messages"]:
        assert_id(message["requestContext"]["messageId"])
    request_ids = [ctx["requestId"] for ctx in contexts]
    assert len(set(request_ids)) == len(request_ids)  # a new requestId per event
    message_ids = {m["requestContext"]["messageId"] for m in lifecycle["messages"]}
    assert len(message_ids) == 2


def test_times_are_clf_and_epoch_ms_and_connected_at_is_stable(lifecycle):
    contexts = [lifecycle["connect"]["requestContext"], lifecycle["disconnect"]["requestContext"]]
    contexts += [m["requestContext"] for m in lifecycle["messages"]]
    connected = {ctx["connectedAt"] for ctx in contexts}
    assert len(connected) == 1
    for ctx in contexts:
        assert CLF.match(ctx["requestTime"]), ctx["requestTime"]
        assert isinstance(ctx["requestTimeEpoch"], int) and ctx["requestTimeEpoch"] >= ctx["connectedAt"]
        stamp = datetime.strptime(ctx["requestTime"], "%d/%b/%Y:%H:%M:%S %z")
        assert int(stamp.timestamp()) == ctx["requestTimeEpoch"] // 1000
    now = datetime.now(UTC).timestamp() * 1000
    assert abs(now - next(iter(connected))) < 60_000  # epoch milliseconds, not seconds


def test_identity_has_source_ip_and_the_user_agent_only_when_sent(lifecycle, echo):
    assert lifecycle["connect"]["requestContext"]["identity"] == {
        "userAgent": "events-test/1.0",
        "sourceIp": "127.0.0.1",
    }
    gw, captured = echo
    before = set(gw.connection_ids)
    ws = open_ws(gw, "", suppress_origin=True)
    cid = connection_id_of(gw, ws, before)
    ws.close()
    assert captured.wait("CONNECT", cid)["requestContext"]["identity"] == {"sourceIp": "127.0.0.1"}


def test_integration_latency_appears_only_on_connects_authorizer(lifecycle):
    connect = lifecycle["connect"]["requestContext"]["authorizer"]
    assert isinstance(connect["integrationLatency"], int)
    for message in lifecycle["messages"]:
        assert "integrationLatency" not in message["requestContext"]["authorizer"]
    assert "integrationLatency" not in lifecycle["disconnect"]["requestContext"]["authorizer"]


def test_principal_and_stringified_context_are_replayed_on_message_and_disconnect(lifecycle):
    # Stringified context values: UNCONFIRMED for WebSocket; the emulator's documented default.
    expected = {"tenant": "t-42", "tier": "3", "admin": "false", "principalId": "user-1"}
    connect = dict(lifecycle["connect"]["requestContext"]["authorizer"])
    connect.pop("integrationLatency")
    assert connect == expected
    for message in lifecycle["messages"]:
        assert message["requestContext"]["authorizer"] == expected
    assert lifecycle["disconnect"]["requestContext"]["authorizer"] == expected


def run_recorded_session(template) -> list[dict]:
    # A fixed domain name: the default (host:port) differs between runs, as the port does.
    with LocalGateway(template, seed=7, clock=SteppingClock(), domain_name="ws.example.test") as gw:
        ws = open_ws(gw, "")
        replies = []
        for body in ("one", "two"):
            ws.send(body)
            replies.append(json.loads(ws.recv()))
        ws.close()
        wait_until(lambda: not gw.connection_ids, what="the connection to close")
    return [r["requestContext"] for r in replies]


def test_seed_and_stepping_clock_make_ids_and_times_identical_across_runs(tmp_path):
    template = write_echo(tmp_path / "repeat", "events_repeat")
    first = run_recorded_session(template)
    second = run_recorded_session(template)
    assert first == second
    assert first[0]["domainName"] == "ws.example.test"
    assert first[0]["requestTime"] == "09/Jul/2024:09:32:00 +0000"  # SteppingClock's start
    for ctx in first:
        assert_id(ctx["connectionId"])
        assert_id(ctx["requestId"])
