"""``wsapp invoke``: our template's functions on the sample events, in each isolation mode.

The events run in order against one embedded DynamoDB: the item $connect writes is the one a broadcast
reads, and every @connections call is recorded (never sent), each with the connection it targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wsapp.emulator.invoke import invoke, load_events

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_connect_then_messages_record_only_management_posts(isolation: str) -> None:
    names = ["connect", "message_marco", "message_broadcast", "message_unknown_action"]
    events = load_events([EVENTS / f"{name}.json" for name in names])
    connect, marco, broadcast, unknown = invoke(ROOT / "template.yaml", events, isolation=isolation)

    connection = events[0]["requestContext"]["connectionId"]
    assert connect.invocation.ok and connect.invocation.value["statusCode"] == 200
    assert connect.posts == []  # the DynamoDB PutItem is answered by the table, not recorded as a post

    assert marco.invocation.ok and marco.invocation.value == {"statusCode": 200}
    [(method, target, body)] = marco.posts
    assert (method, target, json.loads(body)["action"]) == ("POST", connection, "polo")

    # the broadcast reads the row $connect stored: it reaches that connection
    assert [(m, c) for m, c, _ in broadcast.posts] == [("POST", connection)]
    assert json.loads(broadcast.posts[0][2])["message"] == "hello, everyone"

    [(_, _, body)] = unknown.posts
    assert json.loads(body)["message"] == "unknown action 'dance'"


def test_the_plugins_invoke_function_runs_one_event_file_and_decodes_what_was_posted(invoke_function):
    marco = invoke_function("events/message_marco.json")  # relative to the rootdir: this repository
    assert marco.function == "WebSocketFunction"
    assert marco.invocation.ok and marco.invocation.value == {"statusCode": 200}
    [reply] = marco.messages
    assert reply["action"] == "polo"
    assert [(method, connection) for method, connection, _ in marco.posts] == [("POST", "Ux7kQd2RIAMCF3w=")]

    # a dict event, and a function named rather than found by route: the authorizer denies a forged token
    event = json.loads((EVENTS / "authorizer_request.json").read_text())
    event["headers"]["Sec-WebSocket-Protocol"] = "wsapp.v1, not-a-token"
    denied = invoke_function(event, function="AuthorizerFunction")
    assert denied.invocation.value["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied.posts == [] and denied.messages == []
