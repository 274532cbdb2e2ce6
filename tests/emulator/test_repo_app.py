"""This repository's template.yaml with wsapp's own handlers: local DynamoDB and the done-when check."""

from __future__ import annotations

import json

import boto3
import pytest
from emukit import DEADLINE, connection_id_of, handshake_status, open_ws, wait_until

from wsapp.cli import main as wsapp


@pytest.fixture
def cli_token(capsys):
    def mint(sub: str) -> str:
        assert wsapp(["token", "--sub", sub]) == 0
        return capsys.readouterr().out.strip()

    return mint


@pytest.fixture(scope="module")
def table(repo_gateway):
    env = repo_gateway.runtimes["WebSocketFunction"].environment
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


def test_connect_stores_the_connection_in_the_local_table_and_disconnect_removes_it(
    repo_gateway, table, alice_token
):
    before = set(repo_gateway.connection_ids)
    ws = open_ws(repo_gateway, "", subprotocols=["wsapp.v1", alice_token])
    cid = connection_id_of(repo_gateway, ws, before)
    item = table(cid)
    assert item is not None
    assert item["principalId"] == {"S": "alice"}
    ws.close()
    wait_until(lambda: table(cid) is None, what="the row to be deleted by $disconnect")


def test_marco_polo_broadcast_and_get_connection_with_a_cli_token(repo_gateway, repo_management, cli_token):
    before = set(repo_gateway.connection_ids)
    alice = open_ws(repo_gateway, "", subprotocols=["wsapp.v1", cli_token("alice")])
    alice_id = connection_id_of(repo_gateway, alice, before)
    before.add(alice_id)
    bob = open_ws(repo_gateway, "", subprotocols=["wsapp.v1", cli_token("bob")])
    connection_id_of(repo_gateway, bob, before)
    try:
        assert alice.subprotocol == "wsapp.v1"
        alice.send(json.dumps({"action": "marco"}))
        assert json.loads(alice.recv())["action"] == "polo"

        alice.send(json.dumps({"action": "broadcast", "message": "hello all"}))
        bob.settimeout(DEADLINE)
        received = json.loads(bob.recv())
        assert received == {"action": "broadcast", "from": alice_id, "message": "hello all"}

        answer = repo_management.get_connection(ConnectionId=alice_id)
        assert answer["ConnectedAt"] is not None
        assert answer["Identity"]["SourceIp"] == "127.0.0.1"
    finally:
        alice.close()
        bob.close()


def test_repo_gateway_rejects_a_connection_without_a_token_with_401(repo_gateway):
    assert handshake_status(repo_gateway, "") == 401
