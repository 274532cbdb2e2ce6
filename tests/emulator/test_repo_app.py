"""This repository's template.yaml with wsapp's own handlers (the plugin's ``local_gateway``): local
DynamoDB and the done-when check."""

from __future__ import annotations

import json

import boto3
import pytest
import websocket
from emukit import DEADLINE, handshake_status, wait_until

from wsapp.cli import main as wsapp


@pytest.fixture
def cli_token(capsys):
    def mint(sub: str) -> str:
        assert wsapp(["token", "--sub", sub]) == 0
        return capsys.readouterr().out.strip()

    return mint


@pytest.fixture(scope="module")
def table(local_gateway):
    env = local_gateway.runtimes["WebSocketFunction"].environment
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = env["CONNECTIONS_TABLE"]

    def row(cid: str) -> dict | None:
        return dynamodb.get_item(TableName=name, Key={"connectionId": {"S": cid}}, ConsistentRead=True).get(
            "Item"
        )

    return row


def test_connect_stores_the_connection_in_the_local_table_and_disconnect_removes_it(ws_connect, table):
    ws = ws_connect(subject="alice")
    cid = ws.connection_id
    item = table(cid)
    assert item is not None
    assert item["principalId"] == {"S": "alice"}
    ws.close()
    wait_until(lambda: table(cid) is None, what="the row to be deleted by $disconnect")


def test_marco_polo_broadcast_and_get_connection_with_a_cli_token(ws_connect, management_client, cli_token):
    alice = ws_connect(token=cli_token("alice"))
    bob = ws_connect(token=cli_token("bob"))
    assert None not in (alice.connection_id, bob.connection_id) and alice.connection_id != bob.connection_id
    assert alice.subprotocol == "wsapp.v1"
    alice.send(json.dumps({"action": "marco"}))
    assert json.loads(alice.recv())["action"] == "polo"

    alice.send(json.dumps({"action": "broadcast", "message": "hello all"}))
    bob.settimeout(DEADLINE)
    received = json.loads(bob.recv())
    assert received == {"action": "broadcast", "from": alice.connection_id, "message": "hello all"}

    answer = management_client.get_connection(ConnectionId=alice.connection_id)
    assert answer["ConnectedAt"] is not None
    assert answer["Identity"]["SourceIp"] == "127.0.0.1"


def test_repo_gateway_rejects_a_connection_without_a_token_with_401(local_gateway, ws_connect):
    assert handshake_status(local_gateway, "") == 401
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ws_connect(token=None)
    assert refused.value.status_code == 401
