"""The inspector's recorder and masking, without a browser or a gateway (issue 14)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator.awslambda.invocation import Invocation
from wsapp.emulator.inspector import recorder as recorder_module
from wsapp.emulator.inspector.masking import MASK, Masker
from wsapp.emulator.inspector.recorder import Recorder

TOKEN = issue_token("alice", secret=LOCAL_DEV_SECRET)
NO_ECHO = "s3cr3t-no-echo-value-for-the-test"


def _conn(connection_id: str = "c1", principal: str | None = "alice"):
    return SimpleNamespace(
        connection_id=connection_id,
        source_ip="127.0.0.1",
        connected_at=1_700_000_000_000,
        user_agent="pytest",
        authorizer={"principalId": principal} if principal else None,
    )


def _connect_event() -> dict:
    return {
        "headers": {"Sec-WebSocket-Protocol": f"wsapp.v1, {TOKEN}", "Authorization": f"Bearer {TOKEN}"},
        "multiValueHeaders": {"Sec-WebSocket-Protocol": [f"wsapp.v1, {TOKEN}"], "Cookie": ["a=b"]},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c1"},
        "queryStringParameters": {"token": TOKEN, "secret": NO_ECHO},
    }


def test_masking_hides_tokens_in_headers_multi_value_headers_queries_and_no_echo_values():
    masker = Masker([NO_ECHO])
    masked = masker.value(_connect_event())
    assert masked["headers"]["Sec-WebSocket-Protocol"] == f"wsapp.v1, {MASK}"
    assert masked["headers"]["Authorization"] == f"Bearer {MASK}"
    assert masked["multiValueHeaders"]["Sec-WebSocket-Protocol"] == [f"wsapp.v1, {MASK}"]
    assert masked["multiValueHeaders"]["Cookie"] == [MASK]
    assert masked["queryStringParameters"] == {"token": MASK, "secret": MASK}
    assert masked["requestContext"]["routeKey"] == "$connect"  # everything else as it was
    assert TOKEN not in repr(masked) and NO_ECHO not in repr(masked)


def test_masking_keeps_protocol_names_and_hides_long_opaque_tokens_and_identity_sources():
    masker = Masker()
    opaque = "x" * 40
    assert masker.header("Sec-WebSocket-Protocol", f"wsapp.v1, {opaque}") == f"wsapp.v1, {MASK}"
    assert masker.header("sec-websocket-protocol", "graphql-ws") == "graphql-ws"
    event = {"type": "REQUEST", "identitySource": [f"wsapp.v1, {TOKEN}"]}
    assert masker.value(event)["identitySource"] == [f"wsapp.v1, {MASK}"]


def test_masking_hides_jwts_inside_log_lines_and_frames():
    masker = Masker([NO_ECHO])
    line = f'{{"level":"INFO","token":"{TOKEN}","note":"uses {NO_ECHO}"}}'
    assert masker.text(line) == f'{{"level":"INFO","token":"{MASK}","note":"uses {MASK}"}}'


def test_masking_leaves_the_input_unchanged_for_a_replay():
    event = _connect_event()
    Masker([NO_ECHO]).value(event)
    assert event["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_the_ring_buffer_keeps_the_latest_entries_only():
    recorder = Recorder(entries=3)
    conn = _conn()
    recorder.opened(conn, "wsapp.v1")
    for n in range(5):
        recorder.frame_in(conn, f"frame {n}")
    assert [e["data"] for e in recorder.since(0)] == ["frame 2", "frame 3", "frame 4"]
    assert recorder.since(recorder.last_seq - 1)[0]["data"] == "frame 4"
    assert recorder.find(1) is None  # the open entry was dropped


def test_connections_count_frames_and_record_who_closed():
    recorder = Recorder()
    conn = _conn()
    recorder.opened(conn, "wsapp.v1")
    recorder.frame_in(conn, '{"action":"marco"}')
    recorder.frame_out(conn, '{"action":"polo"}')
    recorder.frame_out(conn, '{"message": "Internal server error", "connectionId":"c1", "requestId":"r"}')
    recorder.closed(conn, 1006, "", "network")
    (row,) = recorder.connection_rows()
    assert (row["principal"], row["frames_in"], row["frames_out"]) == ("alice", 1, 2)
    assert (row["state"], row["close_code"], row["closed_by"]) == ("closed", 1006, "network")
    kinds = [(e["kind"], e.get("error", False)) for e in recorder.since(0)]
    assert kinds == [("open", False), ("in", False), ("out", False), ("out", True), ("close", True)]


def test_connection_rows_are_those_asked_for_in_that_order_with_secrets_masked():
    recorder = Recorder(masker=Masker([NO_ECHO]))
    for n in (1, 2, 3):
        recorder.opened(_conn(f"c{n}"), f"wsapp.v1, {TOKEN}" if n == 2 else "wsapp.v1")
    recorder.closed(_conn("c3"), 4000, f"bye {NO_ECHO}", "client")
    rows = recorder.connection_rows(["c3", "gone", "c2"])
    assert [r["connection_id"] for r in rows] == ["c3", "c2"]
    assert (rows[0]["close_reason"], rows[0]["close_code"]) == (f"bye {MASK}", 4000)
    assert rows[1]["protocol"] == f"wsapp.v1, {MASK}" and TOKEN not in str(rows)
    assert [r["connection_id"] for r in recorder.connection_rows()] == ["c1", "c2", "c3"]
    assert recorder.connection_rows(["c3", "c2"]) == rows  # served again: masked the same way


def test_masked_row_strings_are_remembered_up_to_a_bound(monkeypatch):
    monkeypatch.setattr(recorder_module, "MASKED_KEPT", 3)
    recorder = Recorder(masker=Masker([NO_ECHO]))
    for n in range(5):
        recorder.opened(_conn(f"c{n}"), f"p-{NO_ECHO}")
        rows = recorder.connection_rows([f"c{n}"])
        assert rows[0]["protocol"] == f"p-{MASK}" and len(recorder._masked) <= 3


def test_only_the_latest_closed_connections_are_kept():
    recorder = Recorder(closed=2)
    for n in range(4):
        conn = _conn(f"c{n}")
        recorder.opened(conn, None)
        recorder.closed(conn, 1000, "", "client")
    recorder.opened(_conn("open"), None)
    assert sorted(recorder.connections) == ["c2", "c3", "open"]


def test_long_frames_are_cut_when_recorded_and_binary_frames_keep_their_size():
    recorder = Recorder(max_payload=10)
    conn = _conn()
    recorder.frame_in(conn, "y" * 50)
    recorder.frame_in(conn, b"\x00\x01\x02")
    text, binary = recorder.since(0)
    assert (text["data"], text["size"]) == ("y" * 10, 50)
    assert (binary["data"], binary["size"], binary["binary"]) == (None, 3, True)


def test_an_invocation_records_event_response_environment_cold_and_masked_logs():
    recorder = Recorder(masker=Masker([NO_ECHO]))
    recorder.delivered("req-1", "pid 42", True)
    result = Invocation("req-1", True, {"statusCode": 200}, duration_ms=3.5)
    logs = ["START RequestId: req-1", f"connect with {TOKEN}", "REPORT RequestId: req-1"]
    entry = recorder.invocation("WebSocketFunction", _connect_event(), result, started=0.0, logs=logs)
    public = recorder.public(entry)
    assert (public["route"], public["eventType"], public["connectionId"]) == ("$connect", "CONNECT", "c1")
    assert (public["environment"], public["cold"], public["durationMs"], public["status"]) == (
        "pid 42",
        True,
        3.5,
        200,
    )
    assert public["logs"][1] == f"connect with {MASK}"
    assert public["event"]["headers"]["Authorization"] == f"Bearer {MASK}"
    assert entry["event"]["headers"]["Authorization"] == f"Bearer {TOKEN}"  # kept as sent, for replay
    assert public["error"] is False


def test_an_invocation_kept_as_its_json_bytes_is_served_and_replayed_as_the_event():
    import gc
    import json

    recorder = Recorder()
    event = _connect_event()
    result = Invocation("req-2", True, {"statusCode": 200})
    body = json.dumps(event).encode()
    entry = recorder.invocation("Fn", event, result, started=0.0, logs=[], kept=body)
    assert entry["event"] is body and not gc.is_tracked(entry["event"])  # no containers for the GC
    assert (entry["route"], entry["connectionId"]) == ("$connect", "c1")  # summarised from the event
    assert recorder.public(entry)["event"]["headers"]["Authorization"] == f"Bearer {MASK}"
    replayed = recorder.event_of(entry)
    assert replayed == event and replayed is not recorder.event_of(entry)  # a fresh copy per replay


def test_a_failed_or_abandoned_invocation_is_an_error():
    recorder = Recorder()
    failed = Invocation("r1", False, error_type="Runtime.ImportModuleError", error_message="no module")
    gave_up = Invocation("r2", False, error_type="IntegrationTimeout", gave_up=True)
    for result in (failed, gave_up):
        entry = recorder.invocation("F", {"requestContext": {}}, result, started=0.0, logs=[])
        assert entry["error"] is True and entry["ok"] is False
    assert recorder.since(0)[0]["response"]["errorType"] == "Runtime.ImportModuleError"


def test_a_refused_handshake_and_a_failed_post_are_errors():
    recorder = Recorder()
    request = SimpleNamespace(path_qs="/prod", remote="127.0.0.1", headers={"Sec-WebSocket-Protocol": TOKEN})
    recorder.refused(request, 403, "policy does not allow", "c9")
    recorder.post("POST", "gone", 410, 12)
    refused, post = (recorder.public(e) for e in recorder.since(0))
    assert (refused["status"], refused["error"], refused["protocols"]) == (403, True, MASK)
    assert (post["status"], post["size"], post["error"]) == (410, 12, True)


async def test_listeners_are_woken_from_the_loop_and_from_other_threads():
    recorder = Recorder()
    recorder.bind(asyncio.get_running_loop())
    woken = recorder.listen()
    recorder.post("GET", "c1", 200, 0)
    await asyncio.wait_for(woken.wait(), 1)
    woken.clear()
    await asyncio.get_running_loop().run_in_executor(None, recorder.post, "GET", "c1", 200, 0)
    await asyncio.wait_for(woken.wait(), 1)
    recorder.unlisten(woken)


def test_the_live_stream_gets_entries_without_event_response_and_logs():
    recorder = Recorder()
    result = Invocation("req-1", False, error_type="Boom", error_message="no")
    entry = recorder.invocation("F", _connect_event(), result, started=0.0, logs=["line"])
    brief = recorder.brief(entry)
    assert "event" not in brief and "logs" not in brief
    assert brief["response"] == {"errorType": "Boom"} and brief["route"] == "$connect"
    assert recorder.public(entry)["logs"] == ["line"]  # the whole entry, when it is clicked
