"""The hello action, through the local gateway (real WebSocket connections) and on one event.

The fixtures come from wsapp's pytest plugin: ``local_gateway`` serves template.yaml for the session,
``ws_connect`` opens connections that offer a token the authorizer accepts (``wsapp_token``, for the
subject ``pytest``), ``management_client`` is boto3's client for ``@connections``, and
``invoke_function`` runs one function on one event with its posts recorded.
"""

from __future__ import annotations

import json

import pytest
import websocket


def test_hello_greets_the_caller_by_the_subject_of_its_token(ws_connect):
    ws = ws_connect()
    ws.send(json.dumps({"action": "hello"}))
    assert json.loads(ws.recv()) == {"action": "hello", "message": "Hello, pytest!"}


def test_hello_greets_the_name_the_message_gives(ws_connect):
    ws = ws_connect(subject="alice")
    ws.send(json.dumps({"action": "hello", "name": "Ada"}))
    assert json.loads(ws.recv()) == {"action": "hello", "message": "Hello, Ada!"}


def test_an_unknown_action_gets_the_default_reply_listing_hello(ws_connect):
    ws = ws_connect()
    ws.send(json.dumps({"action": "dance"}))
    reply = json.loads(ws.recv())
    assert reply["action"] == "default"
    assert "hello" in reply["actions"]


def test_a_connection_without_a_token_is_refused_with_401(ws_connect):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ws_connect(token=None)
    assert refused.value.status_code == 401


def test_the_management_api_knows_the_connection_and_can_post_to_it(ws_connect, management_client):
    ws = ws_connect()
    described = management_client.get_connection(ConnectionId=ws.connection_id)
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    management_client.post_to_connection(ConnectionId=ws.connection_id, Data=b"from the server")
    assert ws.recv() == "from the server"


def test_hello_on_one_event_posts_one_reply_to_that_connection(invoke_function):
    outcome = invoke_function("events/hello.json")
    assert outcome.invocation.ok, outcome.invocation.error_message
    assert outcome.invocation.value == {"statusCode": 200}
    [(method, connection, _)] = outcome.posts
    assert (method, connection) == ("POST", "Ux7kQd2RIAMCF3w=")
    assert outcome.messages == [{"action": "hello", "message": "Hello, alice!"}]
