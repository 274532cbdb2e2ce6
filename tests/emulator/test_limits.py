"""Reference §9.9 / §7: frame and message limits, binary frames, idle and duration caps, close codes."""

from __future__ import annotations

import json
import time

import pytest
import websocket
from emukit import close_code, connection_id_of, handshake_status, management, open_ws

from wsapp.emulator import Limits, LocalGateway

IDLE, MAX_DURATION = 0.5, 1.5
TEXT, CONT = websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_CONT


@pytest.fixture(scope="module")
def limited(lab_template):
    """The lab API with API Gateway's frame/message sizes but a 0.5 s idle timeout and a 1.5 s cap."""
    limits = Limits(idle_timeout=IDLE, max_duration=MAX_DURATION, connect_rate=0)
    with LocalGateway(lab_template, limits=limits) as gw:
        yield gw


def opened(gw):
    before = set(gw.connection_ids)
    ws = open_ws(gw)
    return ws, connection_id_of(gw, ws, before)


def disconnect_status(captured, cid) -> tuple[int, str]:
    ctx = captured.wait("DISCONNECT", cid)["requestContext"]
    return ctx["disconnectStatusCode"], ctx["disconnectReason"]


def send_fragments(ws, sizes: list[int]) -> None:
    for index, size in enumerate(sizes):
        opcode = TEXT if index == 0 else CONT
        ws.send_frame(websocket.ABNF.create_frame("x" * size, opcode, fin=int(index == len(sizes) - 1)))


def echoed_body(ws) -> str:
    return json.loads(ws.recv())["body"]


def test_frame_of_exactly_32_kb_is_accepted(limited):
    ws, _ = opened(limited)
    try:
        ws.send("x" * 32 * 1024)
        assert len(echoed_body(ws)) == 32 * 1024
    finally:
        ws.close()


def test_frame_over_32_kb_closes_with_1009_and_disconnect_reports_1009(limited, captured):
    ws, cid = opened(limited)
    ws.send("x" * (32 * 1024 + 1))
    assert close_code(ws) == 1009
    assert disconnect_status(captured, cid)[0] == 1009  # UNCONFIRMED; the emulator's default


def test_fragmented_message_of_120_kb_in_small_frames_is_accepted(limited):
    ws, _ = opened(limited)
    try:
        send_fragments(ws, [30_000] * 4)
        assert len(echoed_body(ws)) == 120_000
    finally:
        ws.close()


def test_fragmented_message_over_128_kb_closes_with_1009(limited):
    ws, _ = opened(limited)
    send_fragments(ws, [30_000] * 5)  # every frame is under 32 KB; the message is 150 000 bytes
    assert close_code(ws) == 1009


def test_binary_frame_closes_with_1003_and_disconnect_reports_1003(limited, captured):
    ws, cid = opened(limited)
    ws.send_binary(b"\x00\x01binary")
    assert close_code(ws) == 1003
    assert disconnect_status(captured, cid)[0] == 1003  # UNCONFIRMED; the emulator's default


def test_frame_limit_is_configurable(tmp_path_factory, lab_template):
    with LocalGateway(lab_template, limits=Limits(frame_bytes=1024, message_bytes=4096)) as gw:
        ws = open_ws(gw)
        ws.send("x" * 1024)
        assert len(echoed_body(ws)) == 1024
        ws.send("x" * 1025)
        assert close_code(ws) == 1009
        ws.close()


def test_idle_connection_is_closed_with_going_away_and_disconnect_runs(limited, captured):
    ws, cid = opened(limited)
    started = time.monotonic()
    assert close_code(ws) == 1001  # UNCONFIRMED code; Limits.idle_close's default
    assert IDLE <= time.monotonic() - started < IDLE + 2
    assert disconnect_status(captured, cid) == (1001, "Going away")


def test_data_frames_reset_the_idle_timer(limited):
    ws, _ = opened(limited)
    try:
        deadline = time.monotonic() + 2 * IDLE  # past the idle timeout, short of the cap
        while time.monotonic() < deadline:
            ws.send(json.dumps({"action": "oneway"}))  # inbound data, nothing comes back
            time.sleep(IDLE / 3)
        ws.send(json.dumps({"action": "Ping"}))
        assert json.loads(ws.recv())["requestContext"]["routeKey"] == "Ping"
    finally:
        ws.close()


def test_pings_do_not_reset_the_idle_timer(limited):
    ws, _ = opened(limited)
    started = time.monotonic()
    for _ in range(6):
        try:
            ws.ping(b"keepalive?")
        except (websocket.WebSocketConnectionClosedException, OSError):
            break  # the server closed it: its close frame is still there to read
        time.sleep(IDLE / 3)
    assert close_code(ws) == 1001
    assert time.monotonic() - started < 2.5 * IDLE + 1


def test_maximum_duration_closes_even_an_active_connection(limited, captured):
    ws, cid = opened(limited)
    started = time.monotonic()
    with pytest.raises((websocket.WebSocketConnectionClosedException, OSError)):
        while time.monotonic() - started < MAX_DURATION + 3:
            ws.send(json.dumps({"action": "oneway"}))
            time.sleep(0.1)
    assert MAX_DURATION <= time.monotonic() - started
    assert disconnect_status(captured, cid) == (1001, "Going away")  # UNCONFIRMED; Limits default


# -- $disconnect after the client closes (on the lab gateway: no idle timer) ---------------------------


def test_client_close_1000_gives_disconnect_status_1000_with_the_clients_reason(lab, captured):
    ws, cid = opened(lab)
    ws.close(status=1000, reason=b"bye")
    assert disconnect_status(captured, cid) == (1000, "bye")  # reason UNCONFIRMED: the client's


def test_client_close_1001_gives_disconnect_status_1001_and_empty_reason(lab, captured):
    ws, cid = opened(lab)
    ws.close(status=1001)
    assert disconnect_status(captured, cid) == (1001, "")


def test_close_frame_without_status_gives_1005_client_side_close_frame_status_not_set(lab, captured):
    ws, cid = opened(lab)
    ws.send_frame(websocket.ABNF.create_frame(b"", websocket.ABNF.OPCODE_CLOSE))
    close_code(ws)
    ws.shutdown()
    assert disconnect_status(captured, cid) == (1005, "Client-side close frame status not set")


def test_tcp_drop_without_close_frame_gives_1006(lab, captured):
    ws, cid = opened(lab)
    ws.shutdown()  # closes the socket without a close frame
    assert disconnect_status(captured, cid)[0] == 1006  # UNCONFIRMED; the emulator's default


def test_posts_from_the_server_count_as_activity_for_the_idle_timer(limited):
    ws, cid = opened(limited)
    client = management(limited)
    try:
        deadline = time.monotonic() + 2 * IDLE  # past the idle timeout, short of the cap
        while time.monotonic() < deadline:
            client.post_to_connection(ConnectionId=cid, Data=b"keep-alive")  # outbound data only
            assert ws.recv() == "keep-alive"
            time.sleep(IDLE / 3)
        assert client.get_connection(ConnectionId=cid)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        ws.close()


def test_new_connections_over_the_rate_limit_are_refused_with_429(lab_template):
    # API Gateway's quota is 500/s per account; the status of a refusal is UNCONFIRMED (429 here).
    with LocalGateway(lab_template, limits=Limits(connect_rate=2)) as gw:
        statuses = [handshake_status(gw, "auth=allow") for _ in range(3)]
    assert statuses == [101, 101, 429]


def test_connect_integration_timeout_rejects_the_handshake_with_504(lab_template):
    # UNCONFIRMED status; the reference recommends 504.
    with LocalGateway(lab_template, limits=Limits(integration_timeout=0.3)) as gw:
        assert handshake_status(gw, "auth=allow&connect=sleep&seconds=1") == 504
