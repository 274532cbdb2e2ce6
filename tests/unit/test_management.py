from datetime import datetime

import pytest
from botocore.exceptions import ParamValidationError

from wsapp import management as mgmt
from wsapp import store as store_module
from wsapp.events import WebSocketEvent
from wsapp.management import ConnectionsClient, Delivery, client_for, endpoint_for
from wsapp.services import services_for
from wsapp.store import ConnectionRecord, DynamoConnectionStore

from .conftest import ENDPOINT

CONNECTION = "Ux7kQd2RIAMCF3w="


@pytest.fixture
def fresh_clients(monkeypatch):
    """An empty per-endpoint client cache for this test only."""
    monkeypatch.setattr(mgmt, "_clients", {})
    return mgmt._clients


def test_the_endpoint_is_the_events_domain_and_stage(event):
    assert endpoint_for(WebSocketEvent(event("message_marco")), env={}) == ENDPOINT


def test_the_endpoint_follows_a_custom_domain_name(event):
    raw = event("message_marco", requestContext={"domainName": "ws.example.com", "stage": "v2"})
    assert endpoint_for(WebSocketEvent(raw), env={}) == "https://ws.example.com/v2"


def test_the_sdk_endpoint_variable_overrides_the_event(event):
    env = {"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "http://127.0.0.1:3001/local/"}
    assert endpoint_for(WebSocketEvent(event("message_marco")), env=env) == "http://127.0.0.1:3001/local"


def test_an_empty_override_is_ignored(event):
    env = {"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": ""}
    assert endpoint_for(WebSocketEvent(event("message_marco")), env=env) == ENDPOINT


def test_the_endpoint_reads_the_process_environment_by_default(event, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://localhost:9/s")
    assert endpoint_for(WebSocketEvent(event("message_marco"))) == "http://localhost:9/s"


def test_one_client_is_created_per_endpoint_and_reused(fresh_clients):
    first = client_for(ENDPOINT)
    again = client_for(ENDPOINT)
    other = client_for("http://127.0.0.1:3001/local")

    assert first is again
    assert other is not first
    assert first.meta.endpoint_url == ENDPOINT
    assert other.meta.endpoint_url == "http://127.0.0.1:3001/local"
    assert first.meta.service_model.service_name == "apigatewaymanagementapi"
    assert set(fresh_clients) == {ENDPOINT, "http://127.0.0.1:3001/local"}


def test_a_connections_client_creates_its_boto_client_only_when_first_used(fresh_clients):
    connections = ConnectionsClient(ENDPOINT)

    assert fresh_clients == {}
    assert connections.client is client_for(ENDPOINT)
    assert connections.client is connections.client


def test_post_sends_a_dict_as_compact_json(management):
    management.expect_post(CONNECTION, b'{"a":1,"b":"\\u00e9"}')

    result = ConnectionsClient(ENDPOINT, client=management.client).post(CONNECTION, {"a": 1, "b": "é"})

    assert result is Delivery.SENT
    management.assert_all_used()


@pytest.mark.parametrize(("data", "wire"), [("héllo", "héllo".encode()), (b"\x00\xff", b"\x00\xff")])
def test_post_sends_text_as_utf8_and_bytes_unchanged(management, data, wire):
    management.expect_post(CONNECTION, wire)

    assert ConnectionsClient(ENDPOINT, client=management.client).post(CONNECTION, data) is Delivery.SENT
    management.assert_all_used()


def test_a_gone_connection_is_reported_and_dropped_from_the_store(management, store):
    store.put(ConnectionRecord(CONNECTION, "alice", 1720517520123, "203.0.113.7"))
    management.expect_gone("post_to_connection", CONNECTION)

    result = ConnectionsClient(ENDPOINT, client=management.client, store=store).post(CONNECTION, "hi")

    assert result is Delivery.GONE
    assert store.get(CONNECTION) is None
    management.assert_all_used()


def test_gone_without_a_store_is_still_reported(management):
    management.expect_gone("post_to_connection", CONNECTION)

    assert ConnectionsClient(ENDPOINT, client=management.client).post(CONNECTION, "hi") is Delivery.GONE


def test_other_management_errors_are_raised(management):
    management.stubber.add_client_error(
        "post_to_connection", "PayloadTooLargeException", "too big", http_status_code=413
    )

    with pytest.raises(management.client.exceptions.PayloadTooLargeException):
        ConnectionsClient(ENDPOINT, client=management.client).post(CONNECTION, "x")


def test_info_returns_the_connection_without_response_metadata(management):
    answer = {
        "ConnectedAt": datetime(2024, 7, 9, 9, 32, 0, 123000),
        "Identity": {"SourceIp": "203.0.113.7", "UserAgent": "Firefox/127.0"},
        "LastActiveAt": datetime(2024, 7, 9, 9, 32, 11, 877000),
    }
    management.stubber.add_response("get_connection", answer, {"ConnectionId": CONNECTION})

    info = ConnectionsClient(ENDPOINT, client=management.client).info(CONNECTION)

    assert info == answer
    management.assert_all_used()


def test_info_on_a_gone_connection_is_none_and_drops_it(management, store):
    store.put(ConnectionRecord(CONNECTION, "alice", 1720517520123, "203.0.113.7"))
    management.expect_gone("get_connection", CONNECTION)

    assert ConnectionsClient(ENDPOINT, client=management.client, store=store).info(CONNECTION) is None
    assert store.get(CONNECTION) is None


def test_close_deletes_the_connection(management, store):
    store.put(ConnectionRecord(CONNECTION, "alice", 1720517520123, "203.0.113.7"))
    management.stubber.add_response("delete_connection", {}, {"ConnectionId": CONNECTION})

    result = ConnectionsClient(ENDPOINT, client=management.client, store=store).close(CONNECTION)

    assert result is Delivery.SENT
    management.assert_all_used()
    # the row goes when $disconnect runs, not before
    assert store.get(CONNECTION) is not None


def test_close_of_a_gone_connection_is_reported_and_dropped(management, store):
    store.put(ConnectionRecord(CONNECTION, "alice", 1720517520123, "203.0.113.7"))
    management.expect_gone("delete_connection", CONNECTION)

    result = ConnectionsClient(ENDPOINT, client=management.client, store=store).close(CONNECTION)

    assert result is Delivery.GONE
    assert store.get(CONNECTION) is None


def test_the_stubbed_client_validates_parameters_like_the_real_service(management):
    # the safety net the other tests rely on: a malformed call fails before any response is used
    management.expect_post()
    with pytest.raises(ParamValidationError):
        management.client.post_to_connection(ConnectionId=CONNECTION, Data=123)


def test_services_for_an_event_pair_the_tables_store_with_the_events_stage(event, monkeypatch):
    monkeypatch.setattr(store_module, "_stores", {})
    env = {"CONNECTIONS_TABLE": "wsapp-connections"}

    services = services_for(WebSocketEvent(event("message_marco")), env)

    assert isinstance(services.store, DynamoConnectionStore)
    assert services.store.table_name == "wsapp-connections"
    assert services.connections.endpoint == ENDPOINT
    assert services.connections._store is services.store
