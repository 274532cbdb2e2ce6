import inspect

import pytest

from wsapp.errors import BadMessage
from wsapp.events import AuthorizerRequestEvent, WebSocketEvent
from wsapp.testing import load_event

TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTcyMDUxNzUyMCwiZXhwIjo0MTAyNDQ0ODAwfQ"
    ".YKfnqwO5HI6CgWgsVFCEph2Zc4xdqoD2XDfZ-Ngqqp4"
)


def properties_of(cls):
    return {
        name
        for name, value in inspect.getmembers(cls)
        if isinstance(value, property) and not name.startswith("_")
    }


def websocket_fields(raw):
    """Every WebSocketEvent property, read straight from the raw dict."""
    ctx = raw["requestContext"]
    return {
        "raw_event": raw,
        "event_type": ctx["eventType"],
        "route_key": ctx["routeKey"],
        "connection_id": ctx["connectionId"],
        "request_id": ctx["requestId"],
        "domain_name": ctx["domainName"],
        "stage": ctx["stage"],
        "api_id": ctx["apiId"],
        "connected_at": ctx["connectedAt"],
        "source_ip": ctx["identity"]["sourceIp"],
        "user_agent": ctx["identity"]["userAgent"],
        "principal_id": ctx["authorizer"]["principalId"],
        "authorizer_context": ctx["authorizer"],
        "body": raw.get("body"),
        "disconnect_status_code": ctx.get("disconnectStatusCode"),
        "disconnect_reason": ctx.get("disconnectReason"),
    }


def test_the_field_table_names_every_public_property_of_the_views():
    assert properties_of(WebSocketEvent) == set(websocket_fields(load_event("connect"))) | {
        "offered_subprotocols"
    }
    assert properties_of(AuthorizerRequestEvent) == {
        "raw_event",
        "method_arn",
        "connection_id",
        "request_id",
        "query",
    }


def test_connect_view_properties_equal_the_raw_fields(event):
    raw = event("connect")
    view = WebSocketEvent(raw)

    for name, expected in websocket_fields(raw).items():
        assert getattr(view, name) == expected, name
    assert view.event_type == "CONNECT"
    assert view.route_key == "$connect"
    assert view.connected_at == 1720517520123
    assert view.offered_subprotocols == ["wsapp.v1", TOKEN]
    assert view.body is None
    assert view.disconnect_status_code is None


def test_message_view_properties_equal_the_raw_fields(event):
    raw = event("message_marco")
    view = WebSocketEvent(raw)

    for name, expected in websocket_fields(raw).items():
        assert getattr(view, name) == expected, name
    assert view.event_type == "MESSAGE"
    assert view.body == '{"action":"marco"}'
    # MESSAGE events carry no headers at all
    assert view.offered_subprotocols == []
    assert view.header("Host") is None


def test_disconnect_view_properties_equal_the_raw_fields(event):
    raw = event("disconnect")
    view = WebSocketEvent(raw)

    for name, expected in websocket_fields(raw).items():
        assert getattr(view, name) == expected, name
    assert view.event_type == "DISCONNECT"
    assert view.disconnect_status_code == 1005
    assert view.disconnect_reason == "Client-side close frame status not set"
    assert view.header("x-api-key") == ""


def test_authorizer_view_properties_equal_the_raw_fields(event):
    raw = event("authorizer_request")
    view = AuthorizerRequestEvent(raw)

    assert view.raw_event is raw
    assert view.method_arn == raw["methodArn"]
    assert view.connection_id == raw["requestContext"]["connectionId"]
    assert view.request_id == raw["requestContext"]["requestId"]
    assert view.query == raw["queryStringParameters"] == {}
    assert view.header("Sec-WebSocket-Protocol") == f"wsapp.v1, {TOKEN}"


def test_authorizer_view_query_is_empty_when_the_event_has_none(event):
    raw = event("authorizer_request")
    del raw["queryStringParameters"]
    assert AuthorizerRequestEvent(raw).query == {}
    assert AuthorizerRequestEvent(event("authorizer_request", queryStringParameters={"t": "1"})).query == {
        "t": "1"
    }


def test_a_view_is_a_read_only_mapping_over_the_same_dict(event):
    raw = event("message_marco")
    view = WebSocketEvent(raw)

    assert dict(view) == raw
    assert len(view) == len(raw)
    assert view["requestContext"] is raw["requestContext"]
    assert not hasattr(view, "__setitem__")


def test_a_view_reads_on_access_so_it_never_goes_stale(event):
    raw = event("message_marco")
    view = WebSocketEvent(raw)

    raw["requestContext"]["connectionId"] = "changed="
    assert view.connection_id == "changed="


def test_a_view_fails_only_when_a_missing_field_is_asked_for():
    view = WebSocketEvent({"requestContext": {"eventType": "MESSAGE"}})

    assert view.event_type == "MESSAGE"
    with pytest.raises(KeyError):
        _ = view.connection_id


def test_optional_fields_are_none_when_absent(event):
    raw = event("message_marco")
    del raw["requestContext"]["authorizer"]
    del raw["requestContext"]["identity"]["userAgent"]
    view = WebSocketEvent(raw)

    assert view.principal_id is None
    assert view.authorizer_context == {}
    assert view.user_agent is None


@pytest.mark.parametrize(
    "name", ["sec-websocket-protocol", "SEC-WEBSOCKET-PROTOCOL", "Sec-Websocket-Protocol"]
)
def test_headers_are_matched_case_insensitively(event, name):
    view = WebSocketEvent(event("connect"))
    assert view.header(name) == f"wsapp.v1, {TOKEN}"


def test_offered_subprotocols_read_a_header_in_any_casing(event):
    raw = event("connect")
    raw["headers"] = {"sec-websocket-protocol": " wsapp.v1 ,token,, "}
    assert WebSocketEvent(raw).offered_subprotocols == ["wsapp.v1", "token"]


def test_a_header_that_is_absent_is_none(event):
    assert WebSocketEvent(event("connect")).header("Authorization") is None


def test_json_body_parses_an_object_once(event):
    view = WebSocketEvent(event("message_unknown_action"))

    assert view.json_body == {"action": "dance", "steps": 3}
    assert view.json_body is view.json_body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("hello there", "the body is not valid JSON"),
        ("", "the body is not valid JSON"),
        ('{"action": "marco"', "the body is not valid JSON"),
        ("[1, 2]", "the body is JSON array, not an object"),
        ("42", "the body is JSON number, not an object"),
        ("4.2", "the body is JSON number, not an object"),
        ('"marco"', "the body is JSON string, not an object"),
        ("true", "the body is JSON boolean, not an object"),
        ("null", "the body is JSON null, not an object"),
    ],
)
def test_json_body_says_why_a_body_is_not_a_json_object(event, body, reason):
    view = WebSocketEvent(event("message_marco", body=body))

    with pytest.raises(BadMessage) as caught:
        _ = view.json_body
    assert caught.value.reason == reason


def test_json_body_of_an_event_without_a_body_is_a_bad_message(event):
    with pytest.raises(BadMessage, match="the event has no body"):
        _ = WebSocketEvent(event("connect")).json_body


def test_json_body_nested_too_deeply_to_parse_is_a_bad_message(event):
    view = WebSocketEvent(event("message_marco", body="[" * 100_000 + "]" * 100_000))

    with pytest.raises(BadMessage, match="nested too deeply"):
        _ = view.json_body
