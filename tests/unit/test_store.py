import boto3
import pytest
from moto import mock_aws

from wsapp import store as store_module
from wsapp.errors import ConfigError
from wsapp.store import (
    ConnectionRecord,
    DynamoConnectionStore,
    MemoryConnectionStore,
    record_as_dict,
    store_from_env,
)

TABLE = "wsapp-connections"
RECORD = ConnectionRecord(
    connectionId="Ux7kQd2RIAMCF3w=", principalId="alice", connectedAt=1720517520123, sourceIp="203.0.113.7"
)


@pytest.fixture
def dynamodb():
    """A moto DynamoDB with the table template.yaml declares."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        )
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        yield client


@pytest.fixture
def dynamo_store(dynamodb):
    return DynamoConnectionStore(TABLE, client=dynamodb)


def test_the_ttl_is_two_hours_and_five_minutes_after_connecting():
    assert RECORD.expires_at == 1720517520 + 2 * 60 * 60 + 5 * 60


def test_a_record_converts_to_a_plain_dict():
    assert record_as_dict(RECORD) == {
        "connectionId": "Ux7kQd2RIAMCF3w=",
        "principalId": "alice",
        "connectedAt": 1720517520123,
        "sourceIp": "203.0.113.7",
    }


def test_put_writes_the_row_with_its_ttl(dynamo_store, dynamodb):
    dynamo_store.put(RECORD)

    item = dynamodb.get_item(TableName=TABLE, Key={"connectionId": {"S": RECORD.connectionId}})["Item"]
    assert item == {
        "connectionId": {"S": "Ux7kQd2RIAMCF3w="},
        "principalId": {"S": "alice"},
        "connectedAt": {"N": "1720517520123"},
        "sourceIp": {"S": "203.0.113.7"},
        "expiresAt": {"N": str(1720517520 + 7500)},
    }


def test_get_reads_back_what_put_wrote(dynamo_store):
    dynamo_store.put(RECORD)

    assert dynamo_store.get(RECORD.connectionId) == RECORD
    assert dynamo_store.get("unknown") is None


def test_delete_removes_the_row_and_is_idempotent(dynamo_store):
    dynamo_store.put(RECORD)

    dynamo_store.delete(RECORD.connectionId)
    dynamo_store.delete(RECORD.connectionId)

    assert dynamo_store.get(RECORD.connectionId) is None


def test_connection_ids_lists_every_row_across_scan_pages(dynamo_store, dynamodb):
    # GIVEN rows large enough that one 1 MB scan page cannot hold them all
    padding = "p" * 100_000
    for n in range(30):
        dynamodb.put_item(
            TableName=TABLE,
            Item={"connectionId": {"S": f"conn-{n:04d}"}, "pad": {"S": padding}},
        )
    dynamo_store.put(RECORD)
    pages = []
    dynamodb.meta.events.register("after-call.dynamodb.Scan", lambda **kw: pages.append(1))

    ids = list(dynamo_store.connection_ids())

    assert len(pages) >= 3
    assert sorted(ids) == sorted([f"conn-{n:04d}" for n in range(30)] + [RECORD.connectionId])


def test_connection_ids_of_an_empty_table_is_empty(dynamo_store):
    assert list(dynamo_store.connection_ids()) == []


def test_the_store_creates_its_client_lazily(monkeypatch):
    created = []
    monkeypatch.setattr(boto3, "client", lambda *a, **kw: created.append(a) or object())
    store = DynamoConnectionStore(TABLE)

    assert created == []
    assert store.client is store.client
    assert created == [("dynamodb",)]


def test_store_from_env_without_connections_table_is_a_config_error():
    with pytest.raises(ConfigError, match="CONNECTIONS_TABLE"):
        store_from_env({})
    with pytest.raises(ConfigError, match="CONNECTIONS_TABLE"):
        store_from_env({"CONNECTIONS_TABLE": ""})


def test_store_from_env_builds_one_store_per_table(monkeypatch):
    monkeypatch.setattr(store_module, "_stores", {})
    first = store_from_env({"CONNECTIONS_TABLE": "table-a"})

    assert isinstance(first, DynamoConnectionStore)
    assert first.table_name == "table-a"
    assert store_from_env({"CONNECTIONS_TABLE": "table-a"}) is first
    assert store_from_env({"CONNECTIONS_TABLE": "table-b"}) is not first


def test_the_memory_store_has_the_same_behaviour():
    store = MemoryConnectionStore()
    other = ConnectionRecord("other", "bob", 1, "::1")
    store.put(RECORD)
    store.put(other)

    assert store.get(RECORD.connectionId) == RECORD
    assert list(store.connection_ids()) == [RECORD.connectionId, "other"]
    store.delete(RECORD.connectionId)
    store.delete(RECORD.connectionId)
    assert store.get(RECORD.connectionId) is None
    assert list(store.connection_ids()) == ["other"]
