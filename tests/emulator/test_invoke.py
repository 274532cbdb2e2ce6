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
