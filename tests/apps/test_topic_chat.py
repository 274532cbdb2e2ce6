"""A look-alike of chat fanned out through SNS (a route publishes to a topic; functions subscribed to it
post to connections): the embedded SNS applies each subscription's filter policy, and the Lambda service
invokes the subscribed functions asynchronously with Lambda's SNS event. End to end over real
WebSockets, in both isolations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "topic_chat" / "template.yaml"


def test_a_message_published_by_a_route_reaches_every_connection_through_the_topic(gw):
    alice = websocket.create_connection(gw.url, timeout=15)
    bob = websocket.create_connection(gw.url, timeout=15)
    try:
        alice.send(json.dumps({"action": "sendmessage", "data": "hello lobby"}))
        got = [json.loads(alice.recv()), json.loads(bob.recv())]
    finally:
        alice.close()
        bob.close()
    for message in got:
        assert message["data"] == "hello lobby" and message["room"] == "lobby"
        assert message["subject"] == "chat"
        assert re.fullmatch(r"arn:aws:sns:us-east-1:\d{12}:.*ChatTopic.*", message["topic"])
    assert not any("warning:" in line for line in gw.logs)  # every subscription runs


def test_the_filter_policy_keeps_other_rooms_from_the_broadcaster(gw):
    alice = websocket.create_connection(gw.url, timeout=15)
    try:
        alice.send(json.dumps({"action": "sendmessage", "data": "psst", "room": "quiet"}))
        alice.send(json.dumps({"action": "sendmessage", "data": "back in the lobby"}))
        first = json.loads(alice.recv())
    finally:
        alice.close()
    assert first["data"] == "back in the lobby"  # "psst" never reached the broadcaster


def test_a_lambda_subscription_gets_lambdas_sns_record(gw):
    alice = websocket.create_connection(gw.url, timeout=15)
    try:
        alice.send(
            json.dumps({"action": "sendmessage", "data": "for the record", "room": "x", "audit": True})
        )
        record = json.loads(alice.recv())["audited"]
    finally:
        alice.close()
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert re.fullmatch(
        r"arn:aws:sns:us-east-1:\d{12}:.*ChatTopic.*:[0-9a-f-]{36}", record["EventSubscriptionArn"]
    )
    sns = record["Sns"]
    assert sns["Type"] == "Notification" and sns["Message"] == "for the record" and sns["Subject"] == "chat"
    assert sns["MessageAttributes"]["audit"] == {"Type": "String", "Value": "yes"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sns["Timestamp"])
    assert sns["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert record["EventSubscriptionArn"] in sns["UnsubscribeUrl"]
    assert {"MessageId", "TopicArn", "SignatureVersion", "Signature"} <= set(sns)
