import json

import pytest

from wsapp.handlers import connect, disconnect, message
from wsapp.handlers.websocket import handler
from wsapp.store import ConnectionRecord

CONNECTION = "Ux7kQd2RIAMCF3w="
TOKEN = "header.payload.signature"


def with_protocols(event, value):
    raw = event("connect")
    raw["headers"]["Sec-WebSocket-Protocol"] = value
    raw["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [value]
    return raw


def test_connect_records_the_connection_and_accepts_wsapp_v1(event, services, store, management):
    response = handler(event("connect"), None, services=services)

    assert response == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "wsapp.v1"}}
    assert store.get(CONNECTION) == ConnectionRecord(
        connectionId=CONNECTION, principalId="alice", connectedAt=1720517520123, sourceIp="203.0.113.7"
    )
    assert management.posts == []


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (f"wsapp.v1, {TOKEN}", "wsapp.v1"),
        (f"{TOKEN}, wsapp.v1", "wsapp.v1"),
        ("wsapp.v1", "wsapp.v1"),
        (TOKEN, TOKEN),
        (f" {TOKEN} ", TOKEN),
    ],
)
def test_connect_returns_exactly_one_offered_subprotocol(event, services, offered, chosen):
    response = handler(with_protocols(event, offered), None, services=services)

    assert response["statusCode"] == 200
    assert response["headers"] == {"Sec-WebSocket-Protocol": chosen}
    assert chosen in [p.strip() for p in offered.split(",")]


def test_connect_honours_wsapp_subprotocols_for_the_application_protocol(event, services, monkeypatch):
    monkeypatch.setenv("WSAPP_SUBPROTOCOLS", "chat.v2, wsapp.v1")

    response = handler(with_protocols(event, f"{TOKEN}, chat.v2"), None, services=services)

    assert response["headers"] == {"Sec-WebSocket-Protocol": "chat.v2"}


def test_connect_without_an_offer_returns_no_subprotocol(event, services, store):
    raw = event("connect")
    del raw["headers"]["Sec-WebSocket-Protocol"]

    response = handler(raw, None, services=services)

    assert response == {"statusCode": 200}
    assert store.get(CONNECTION) is not None


def test_connect_reads_the_offer_in_any_header_casing(event, services):
    raw = event("connect")
    raw["headers"]["sec-websocket-protocol"] = raw["headers"].pop("Sec-WebSocket-Protocol")

    assert handler(raw, None, services=services)["headers"] == {"Sec-WebSocket-Protocol": "wsapp.v1"}


@pytest.mark.parametrize("authorizer", [None, {}, {"principalId": ""}, {"sub": "alice"}])
def test_connect_without_an_authorizer_principal_is_refused_with_403(event, services, store, authorizer):
    raw = event("connect")
    if authorizer is None:
        del raw["requestContext"]["authorizer"]
    else:
        raw["requestContext"]["authorizer"] = authorizer

    response = handler(raw, None, services=services)

    assert response == {"statusCode": 403}
    assert list(store.connection_ids()) == []


def test_connect_answers_500_when_the_store_fails(event, services, store, monkeypatch, log_output):
    def broken(record):
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "put", broken)

    assert handler(event("connect"), None, services=services) == {"statusCode": 500}
    assert "RuntimeError: throttled" in log_output()


def test_disconnect_forgets_the_connection(event, services, store):
    store.put(ConnectionRecord(CONNECTION, "alice", 1720517520123, "203.0.113.7"))
    store.put(ConnectionRecord("other", "bob", 1720517520123, "203.0.113.8"))

    response = handler(event("disconnect"), None, services=services)

    assert response == {"statusCode": 200}
    assert list(store.connection_ids()) == ["other"]


def test_disconnect_is_idempotent(event, services, store):
    first = handler(event("disconnect"), None, services=services)
    second = handler(event("disconnect"), None, services=services)

    assert first == second == {"statusCode": 200}
    assert store.get(CONNECTION) is None


def test_disconnect_answers_200_even_when_the_store_raises(event, services, store, monkeypatch, log_output):
    def broken(connection_id):
        raise RuntimeError("table deleted")

    monkeypatch.setattr(store, "delete", broken)

    assert handler(event("disconnect"), None, services=services) == {"statusCode": 200}
    assert "RuntimeError: table deleted" in log_output()


def test_disconnect_without_a_configured_store_still_answers_200(event):
    assert disconnect.handler(event("disconnect")) == {"statusCode": 200}


def test_disconnect_logs_the_close_code_and_reason(event, services, log_output):
    handler(event("disconnect"), None, services=services)

    [line] = [json.loads(line) for line in log_output().splitlines() if "disconnected" in line]
    assert (line["status_code"], line["reason"]) == (1005, "Client-side close frame status not set")


@pytest.mark.parametrize("event_type", [None, "AUTHORIZE", "connect"])
def test_the_dispatcher_answers_400_to_an_event_that_is_not_a_websocket_event(event, event_type):
    raw = event("message_marco")
    raw["requestContext"]["eventType"] = event_type

    response = handler(raw, None, services=None)

    assert response == {"statusCode": 400, "body": f"unsupported eventType {event_type!r}"}


def test_the_dispatcher_answers_400_to_an_event_without_a_request_context():
    assert handler({"body": "{}"}, None)["statusCode"] == 400


def test_each_lifecycle_module_handles_its_own_event(event, services, management, store):
    # the modules are entry points too: handler(event, context, services=...)
    management.expect_post(CONNECTION)

    assert connect.handler(event("connect"), None, services=services)["statusCode"] == 200
    assert store.get(CONNECTION) is not None
    assert message.handler(event("message_marco"), None, services=services) == {"statusCode": 200}
    assert disconnect.handler(event("disconnect"), None, services=services) == {"statusCode": 200}
    assert store.get(CONNECTION) is None
    management.assert_all_used()
