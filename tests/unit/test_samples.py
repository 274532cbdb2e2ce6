"""Every sample event in events/ through the entry point template.yaml gives it."""

import json

import pytest

from wsapp.auth import LOCAL_DEV_SECRET
from wsapp.handlers import authorizer, websocket
from wsapp.store import ConnectionRecord
from wsapp.testing import EVENTS_DIR

SENDER = "Ux7kQd2RIAMCF3w="
PEER = "Pe3rConnect1d0="
ACTIONS = ["broadcast", "marco", "ping"]


def default_reply(message, received):
    return {"action": "default", "message": message, "received": received, "actions": ACTIONS}


# name -> (response, {connection: reply posted}, connections stored afterwards)
WEBSOCKET_SAMPLES = {
    "connect": (
        {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "wsapp.v1"}},
        {},
        {PEER, SENDER},
    ),
    "disconnect": ({"statusCode": 200}, {}, {PEER}),
    "message_marco": ({"statusCode": 200}, {SENDER: "polo"}, {PEER, SENDER}),
    "message_ping": (None, {}, {PEER, SENDER}),
    "message_broadcast": (
        {"statusCode": 200},
        {
            SENDER: {"action": "broadcast", "from": SENDER, "message": "hello, everyone"},
            PEER: {"action": "broadcast", "from": SENDER, "message": "hello, everyone"},
        },
        {PEER, SENDER},
    ),
    "message_not_json": (
        {"statusCode": 200},
        {SENDER: default_reply("the body is not valid JSON", "hello there")},
        {PEER, SENDER},
    ),
    "message_unknown_action": (
        {"statusCode": 200},
        {SENDER: default_reply("unknown action 'dance'", '{"action":"dance","steps":3}')},
        {PEER, SENDER},
    ),
}


def test_every_sample_event_is_covered_here():
    names = {path.stem for path in EVENTS_DIR.glob("*.json")}
    assert names == set(WEBSOCKET_SAMPLES) | {"authorizer_request"}


@pytest.mark.parametrize("name", sorted(WEBSOCKET_SAMPLES))
def test_the_websocket_function_on_each_sample_event(event, services, management, store, name):
    expected_response, expected_posts, expected_ids = WEBSOCKET_SAMPLES[name]
    # GIVEN the sender and a peer are connected (the sender's row is what connect would have written)
    store.put(ConnectionRecord(PEER, "bob", 1720517520000, "198.51.100.1"))
    if name != "connect":
        store.put(ConnectionRecord(SENDER, "alice", 1720517520123, "203.0.113.7"))
    for _ in expected_posts:
        management.expect_post()

    response = websocket.handler(event(name), None, services=services)

    management.assert_all_used()
    posts = {cid: json.loads(data) for cid, data in management.posts}
    assert len(posts) == len(management.posts)
    assert set(posts) == set(expected_posts)
    for cid, reply in expected_posts.items():
        if reply == "polo":
            assert posts[cid]["action"] == "polo"
        else:
            assert posts[cid] == reply
    if name == "message_ping":
        assert response["statusCode"] == 200
        assert json.loads(response["body"])["action"] == "pong"
    else:
        assert response == expected_response
    assert set(store.connection_ids()) == expected_ids


def test_the_authorizer_allows_the_sample_request_signed_with_the_local_secret(event, monkeypatch):
    monkeypatch.setenv("TOKEN_SECRET", LOCAL_DEV_SECRET)

    result = authorizer.handler(event("authorizer_request"), None)

    assert result == {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*",
                }
            ],
        },
        "context": {"sub": "alice"},
    }


def test_the_sample_connect_event_carries_what_that_authorizer_allowed(event):
    ctx = event("connect")["requestContext"]
    assert ctx["authorizer"]["principalId"] == "alice"
    assert ctx["authorizer"]["sub"] == "alice"
    assert ctx["connectionId"] == event("authorizer_request")["requestContext"]["connectionId"]
