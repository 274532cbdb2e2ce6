"""Reading the gateway's log: structured records by field, one request's lines, waiting without polling."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
import websocket

from wsapp import guide
from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import LocalGateway
from wsapp.emulator.logs import LogLine, LogSink, Report
from wsapp.testing import TEMPLATE


def test_a_line_is_split_into_function_request_id_text_and_record():
    line = LogLine.parse('[Fn 1b-2c] {"route_key": "$default", "n": 1}')
    assert (line.function, line.request_id, line.record) == ("Fn", "1b-2c", {"route_key": "$default", "n": 1})
    assert LogLine.parse("[Fn] INIT_START Runtime Version: python:3.12").request_id is None
    assert LogLine.parse("[Fn r] {not json").record is None
    assert LogLine.parse("[Fn r] [1, 2]").record is None  # JSON, but not a record
    gateway_line = LogLine.parse("warning: Rule: not triggered")
    assert (gateway_line.function, gateway_line.text) == (None, "warning: Rule: not triggered")


def test_a_waiter_wakes_when_the_line_it_waits_for_is_emitted_from_another_thread():
    sink = LogSink(None)
    timer = threading.Timer(0.2, sink.emit, args=['[Fn r1] {"done": true}\n'])
    started = time.monotonic()
    timer.start()
    found = sink.wait_for(lambda lines: [x for x in lines if x.record == {"done": True}], timeout=5)
    assert [x.request_id for x in found] == ["r1"]
    assert 0.15 < time.monotonic() - started < 2  # woken by the emit, not by the timeout


def test_a_wait_that_is_not_met_says_so_after_its_timeout():
    sink = LogSink(None)
    sink.emit("[Fn r1] START RequestId: r1\n")
    with pytest.raises(TimeoutError, match=r"not logged within 0\.2 s \(1 lines kept\)"):
        sink.wait_for(lambda lines: False, timeout=0.2)


@pytest.fixture(scope="module")
def gw():
    with LocalGateway(TEMPLATE, seed=3) as gateway:
        yield gateway


def test_records_of_a_disconnect_and_the_log_of_its_request(gw):
    # GIVEN a client that connects, plays marco/polo and closes
    token = issue_token("dora", secret=LOCAL_DEV_SECRET)
    ws = websocket.create_connection(gw.url, subprotocols=["wsapp.v1", token], timeout=10)
    ws.send(json.dumps({"action": "marco"}))
    assert json.loads(ws.recv())["action"] == "polo"
    connection_id = gw.connection_id_for(ws.sock.getsockname())
    ws.close()

    # WHEN its $disconnect record is awaited (the handler logs it after the socket is gone)
    [gone] = gw.wait_for_records(
        function="WebSocketFunction", route_key="$disconnect", connection_id=connection_id
    )

    # THEN it is the handler's record, with the close status, and the authorizer logged none like it
    assert gone["status_code"] == 1000
    assert gw.log_records("AuthorizerFunction", route_key="$disconnect") == []
    assert gw.log_records(principal="dora", message="token accepted")
    # and its request's lines are the platform's START/END/REPORT around what the handler logged
    request = next(
        line.request_id
        for line in gw.sink.parsed()
        if line.record is not None
        and line.record.get("connection_id") == connection_id
        and line.record.get("route_key") == "$disconnect"
    )
    lines = gw.request_log(request)
    assert lines[0].startswith(f"START RequestId: {request}")
    assert lines[-1].startswith(f"REPORT RequestId: {request}")
    assert any('"route_key":"$disconnect"' in line for line in lines)


def test_awaiting_records_that_never_come_names_them(gw):
    with pytest.raises(TimeoutError, match=r"2 log record\(s\) of WebSocketFunction with route_key='nope'"):
        gw.wait_for_records(2, function="WebSocketFunction", route_key="nope", timeout=0.3)


def test_the_log_of_a_request_that_never_ran_is_awaited_then_refused(gw):
    with pytest.raises(TimeoutError, match=r"no REPORT line of request not-a-request within 0\.2 s"):
        gw.request_log("not-a-request", timeout=0.2)


def test_handshake_status_says_how_a_handshake_ended(gw):
    token = issue_token("erin", secret=LOCAL_DEV_SECRET)
    assert guide.handshake_status(gw.url, ["wsapp.v1", token]) == "101 (subprotocol wsapp.v1)"
    assert guide.handshake_status(gw.url) == '401 {"message": "Unauthorized"}'
    forged = issue_token("erin", secret="another-secret-of-at-least-32-bytes")
    assert guide.handshake_status(gw.url, ["wsapp.v1", forged]) == '403 {"message": "Forbidden"}'
    lines = gw.log_lines
    rejected = [line for line in lines if line.record and line.record.get("message") == "token rejected"]
    assert rejected and all(line.function == "AuthorizerFunction" and line.request_id for line in rejected)


def test_a_report_line_is_read_as_lambda_writes_it():
    line = LogLine.parse(
        "[Fn r-1] REPORT RequestId: r-1\tDuration: 1.91 ms\tBilled Duration: 169 ms\tMemory Size: 256 MB"
        "\tMax Memory Used: 43 MB\tInit Duration: 166.86 ms\t"
    )
    report = Report.parse(line)
    assert report == Report("Fn", "r-1", 1.91, 169, 256, 43, 166.86)
    assert report.cold
    warm = LogLine.parse(
        "[Fn r-2] REPORT RequestId: r-2\tDuration: 0.5 ms\tBilled Duration: 1 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 43 MB\t"
    )
    assert Report.parse(warm).init_ms is None and not Report.parse(warm).cold
    assert Report.parse(LogLine.parse("[Fn r-2] START RequestId: r-2 Version: $LATEST")) is None


def test_the_gateways_reports_are_cold_once_per_environment(gw):
    token = issue_token("fay", secret=LOCAL_DEV_SECRET)
    ws = websocket.create_connection(gw.url, subprotocols=["wsapp.v1", token], timeout=10)
    for _ in range(3):
        ws.send(json.dumps({"action": "marco"}))
        ws.recv()
    ws.close()
    reports = gw.reports("WebSocketFunction")
    assert len(reports) >= 4  # $connect and three marcos (and earlier tests' invocations)
    assert {r.function for r in reports} == {"WebSocketFunction"}
    live = gw.runtimes["WebSocketFunction"].live  # environments (processes, or threads) now running
    assert 1 <= sum(r.cold for r in reports) <= live + 1  # one cold start per environment ever started


def test_a_waiter_sees_each_new_line_once_and_only_the_lines_still_kept(monkeypatch):
    sink = LogSink(None, keep=3)
    sink.emit("[Fn r0] old one\n")
    parses = []
    real = LogLine.parse
    monkeypatch.setattr(LogLine, "parse", classmethod(lambda cls, line: parses.append(line) or real(line)))
    seen_last: list[list[str]] = []

    def found(lines):
        seen_last.append([line.text for line in lines])
        return len(seen_last) == 3

    bursts = iter(["[Fn r1] a\n[Fn r1] b\n", "[Fn r2] c\n[Fn r2] d\n[Fn r2] e\n[Fn r2] f\n"])
    timers = [threading.Timer(0.3 * (n + 1), sink.emit, args=[next(bursts)]) for n in range(2)]
    for timer in timers:
        timer.start()
    sink.wait_for(found, timeout=5)
    # the kept line once, then each burst's lines once (the second burst past the bound: its last three)
    assert parses == ["[Fn r0] old one", "[Fn r1] a", "[Fn r1] b", "[Fn r2] d", "[Fn r2] e", "[Fn r2] f"]
    assert seen_last == [["old one"], ["old one", "a", "b"], ["d", "e", "f"]]


def test_a_watched_request_collects_its_own_lines_unprefixed_and_nothing_else_is_formatted():
    sink = LogSink(None, keep=0)  # neither shown nor kept: only a watcher wants lines
    sink.emit_for("Fn", "r1", ["dropped: nobody watches r1 yet"])
    sink.watch("Fn", "r1")
    sink.emit_for("Fn", "r1", ["START RequestId: r1", "hello"])
    sink.emit_for("Fn", "r2", ["another request's line"])
    sink.emit_for("Fn", None, ["an environment's line"])
    sink.emit("[Fn r1] from a prefixed writer\n")  # thread isolation's routed stdout
    assert sink.unwatch("Fn", "r1") == ["START RequestId: r1", "hello", "from a prefixed writer"]
    assert list(sink.lines) == []
    shown = io.StringIO()
    kept = LogSink(shown, keep=10)
    kept.watch("Fn", "r1")
    kept.emit_for("Fn", "r1", ["a", "b"])
    kept.emit_for("Fn", None, ["INIT_START"])
    assert kept.unwatch("Fn", "r1") == ["a", "b"]
    assert list(kept.lines) == ["[Fn r1] a", "[Fn r1] b", "[Fn] INIT_START"]
    assert shown.getvalue() == "[Fn r1] a\n[Fn r1] b\n[Fn] INIT_START\n"


def test_wait_for_line_returns_the_line_as_logs_has_it(gw):
    token = issue_token("gil", secret=LOCAL_DEV_SECRET)
    websocket.create_connection(gw.url, subprotocols=["wsapp.v1", token], timeout=10).close()
    line = gw.wait_for_line('"principal":"gil"')
    assert line.startswith("[AuthorizerFunction ") and line in gw.logs
    with pytest.raises(TimeoutError, match=r"no log line with 'never there' within 0\.2 s"):
        gw.wait_for_line("never there", timeout=0.2)
