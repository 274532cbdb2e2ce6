import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from wsapp import actions
from wsapp.handlers import message
from wsapp.handlers.websocket import handler
from wsapp.logs import logger
from wsapp.store import ConnectionRecord

SENDER = "Ux7kQd2RIAMCF3w="  # the sample events' connectionId
ACTIONS = ["broadcast", "marco", "ping"]
ISO_UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def connect(store, *connection_ids):
    for cid in connection_ids:
        store.put(
            ConnectionRecord(connectionId=cid, principalId="p", connectedAt=1720517520123, sourceIp="::1")
        )


def posted(management):
    return [(cid, json.loads(data)) for cid, data in management.posts]


def test_marco_posts_exactly_one_polo_with_a_utc_timestamp_to_the_sender(event, services, management):
    management.expect_post(SENDER)

    response = handler(event("message_marco"), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    [(cid, reply)] = posted(management)
    assert cid == SENDER
    assert set(reply) == {"action", "ts"}
    assert reply["action"] == "polo"
    assert ISO_UTC_MS.match(reply["ts"]), reply["ts"]
    sent_at = datetime.fromisoformat(reply["ts"])
    assert abs(datetime.now(UTC) - sent_at) < timedelta(seconds=5)


def test_replies_are_compact_json(event, services, management):
    management.expect_post(SENDER)

    handler(event("message_marco"), None, services=services)

    [(_, data)] = management.posts
    assert data.startswith(b'{"action":"polo","ts":"')


def test_a_sender_that_is_gone_is_dropped_from_the_store_and_is_not_an_error(
    event, services, management, store
):
    connect(store, SENDER, "other")
    management.expect_gone("post_to_connection", SENDER)

    response = handler(event("message_marco"), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    assert list(store.connection_ids()) == ["other"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"action":"dance","steps":3}', "unknown action 'dance'"),
        ("hello there", "the body is not valid JSON"),
        ("[1, 2, 3]", "the body is JSON array, not an object"),
        ('"marco"', "the body is JSON string, not an object"),
        ('{"steps":3}', "the message has no string 'action' field"),
        ('{"action":null}', "the message has no string 'action' field"),
        ('{"action":["marco"]}', "the message has no string 'action' field"),
        ('{"action":"MARCO"}', "unknown action 'MARCO'"),
        ('{"action":"broadcast"}', "broadcast needs a 'message' field"),
    ],
)
def test_a_message_that_cannot_be_dispatched_gets_the_default_reply(
    event, services, management, body, reason
):
    management.expect_post(SENDER)

    response = handler(event("message_marco", body=body), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    assert posted(management) == [
        (SENDER, {"action": "default", "message": reason, "received": body, "actions": ACTIONS})
    ]


def test_the_sample_unknown_action_names_what_was_received(event, services, management):
    management.expect_post(SENDER)

    handler(event("message_unknown_action"), None, services=services)

    [(_, reply)] = posted(management)
    assert reply["received"] == '{"action":"dance","steps":3}'
    assert reply["message"] == "unknown action 'dance'"
    assert reply["actions"] == ACTIONS


def test_an_oversize_body_is_truncated_in_the_default_reply(event, services, management):
    body = "x" * 200_000
    management.expect_post(SENDER)

    handler(event("message_marco", body=body), None, services=services)

    management.assert_all_used()
    [(_, reply)] = posted(management)
    assert reply["received"] == "x" * message.RECEIVED_ECHO_LIMIT + "…"
    assert len(management.posts[0][1]) < 2 * message.RECEIVED_ECHO_LIMIT


def test_an_oversize_unknown_action_name_is_truncated_too(event, services, management):
    body = json.dumps({"action": "y" * 200_000})
    management.expect_post(SENDER)

    response = handler(event("message_marco", body=body), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    [(_, reply)] = posted(management)
    assert reply["received"] == body[: message.RECEIVED_ECHO_LIMIT] + "…"
    assert reply["message"] == f"unknown action '{'y' * message.ACTION_ECHO_LIMIT}…'"
    assert len(management.posts[0][1]) < 2 * message.RECEIVED_ECHO_LIMIT


def test_a_body_at_the_limit_is_quoted_whole(event, services, management):
    body = "z" * message.RECEIVED_ECHO_LIMIT
    management.expect_post(SENDER)

    handler(event("message_marco", body=body), None, services=services)

    [(_, reply)] = posted(management)
    assert reply["received"] == body


def test_ping_is_answered_as_the_route_response_and_posts_nothing(event, services, management):
    response = handler(event("message_ping"), None, services=services)

    assert management.posts == []
    assert set(response) == {"statusCode", "body"}
    assert response["statusCode"] == 200
    reply = json.loads(response["body"])
    assert reply["action"] == "pong"
    assert ISO_UTC_MS.match(reply["ts"])


def test_broadcast_posts_the_message_to_every_stored_connection(event, services, management, store):
    others = [f"conn-{n:04d}" for n in range(40)]
    connect(store, SENDER, *others)
    for _ in range(41):
        management.expect_post()

    response = handler(event("message_broadcast"), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    expected = {"action": "broadcast", "from": SENDER, "message": "hello, everyone"}
    assert sorted(cid for cid, _ in posted(management)) == sorted([SENDER, *others])
    assert all(reply == expected for _, reply in posted(management))


def test_broadcast_drops_a_gone_connection_and_still_succeeds(
    event, services, management, store, monkeypatch, log_output
):
    # GIVEN one worker, so the stubbed answers meet the posts in store order
    monkeypatch.setattr(actions, "BROADCAST_WORKERS", 1)
    connect(store, SENDER, "gone-one", "still-here")
    management.expect_post(SENDER)
    management.expect_gone("post_to_connection", "gone-one")
    management.expect_post("still-here")

    response = handler(event("message_broadcast"), None, services=services)

    assert response == {"statusCode": 200}
    management.assert_all_used()
    assert list(store.connection_ids()) == [SENDER, "still-here"]
    [sent] = [json.loads(line) for line in log_output().splitlines() if "broadcast sent" in line]
    assert (sent["recipients"], sent["gone"]) == (2, 1)


def test_broadcast_to_an_empty_store_posts_nothing(event, services, management):
    response = handler(event("message_broadcast"), None, services=services)

    assert response == {"statusCode": 200}
    assert management.posts == []


def test_a_failing_action_is_logged_and_the_client_gets_an_error_without_the_traceback(
    event, services, management, store, monkeypatch, log_output
):
    def broken():
        raise RuntimeError("the table is on fire")

    monkeypatch.setattr(store, "connection_ids", broken)
    management.expect_post(SENDER)

    response = handler(event("message_broadcast"), None, services=services)

    assert response == {"statusCode": 500}
    management.assert_all_used()
    [(cid, reply)] = posted(management)
    assert cid == SENDER
    assert reply == {"action": "error", "message": "Internal error", "requestId": "Ux7pCuHQIAMFgBw="}
    assert b"Traceback" not in management.posts[0][1]
    assert b"on fire" not in management.posts[0][1]
    logs = log_output()
    assert "handler failed" in logs
    assert "RuntimeError: the table is on fire" in logs
    assert "Traceback" in logs


def test_a_failure_that_cannot_be_reported_still_answers_500(event, services, management, store, monkeypatch):
    monkeypatch.setattr(store, "connection_ids", lambda: iter(["x"]))
    management.stubber.add_client_error("post_to_connection", "ForbiddenException", http_status_code=403)
    management.stubber.add_client_error("post_to_connection", "ForbiddenException", http_status_code=403)

    response = handler(event("message_broadcast"), None, services=services)

    assert response == {"statusCode": 500}
    management.assert_all_used()


def test_without_services_or_a_table_the_message_handler_answers_500(event, log_output):
    response = handler(event("message_marco"), None)

    assert response == {"statusCode": 500}
    assert "CONNECTIONS_TABLE is not set" in log_output()


def test_request_keys_are_logged_and_removed_afterwards(event, services, management, log_output):
    management.expect_post(SENDER)

    handler(event("message_marco", body="not json"), None, services=services)

    [line] = [json.loads(line) for line in log_output().splitlines() if "default action" in line]
    assert line["connection_id"] == SENDER
    assert line["request_id"] == "Ux7nXH0ZoAMFdkQ="
    assert line["route_key"] == "$default"
    assert line["reason"] == "the body is not valid JSON"
    logger.info("after")
    [after] = [json.loads(line) for line in log_output().splitlines()]
    assert "connection_id" not in after
