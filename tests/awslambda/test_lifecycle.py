"""Execution environments are processes with Lambda's lifecycle: warm reuse, crashes, timeouts, memory.

Each case checks what a WebSocket client sees (as API Gateway shows a Lambda failure: the
``Internal server error`` frame, the connection kept), what the function's log says (AWS's lines), and
that the next event is served by a fresh environment.
"""

from __future__ import annotations

# ruff: noqa: E501 - AWS's log lines are asserted whole, on one line each
import json
import os
import re
import time

import pytest
from lifekit import ask, connect, wait_for_line, write_life

from wsapp.emulator import LocalGateway
from wsapp.emulator.awslambda.lifecycle import Lifecycle

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def life(tmp_path_factory):
    """One environment at most: every event of a test goes to the same one, until it dies."""
    template = write_life(tmp_path_factory.mktemp("life"))
    with LocalGateway(template, dynamodb=False, isolation="process", concurrency=1) as gw:
        yield gw


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    template = write_life(tmp_path_factory.mktemp("wide"))
    with LocalGateway(template, dynamodb=False, isolation="process", concurrency=4) as gw:
        yield gw


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone: Lambda's environment no longer runs
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def is_internal_error(frame) -> bool:
    return isinstance(frame, dict) and frame.get("message") == "Internal server error"


def test_a_warm_environment_is_reused_and_keeps_its_module_state(life):
    ws = connect(life)
    try:
        first, second = ask(ws), ask(ws)
    finally:
        ws.close()
    assert first["pid"] == second["pid"] != os.getpid()
    assert second["count"] == first["count"] + 1
    assert first["started"] == second["started"]


def test_the_context_and_runtime_api_headers_are_lambdas(life):
    ws = connect(life)
    try:
        answer = ask(ws)
    finally:
        ws.close()
    assert UUID.match(answer["request_id"])
    assert answer["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{answer['function_name']}"
    assert 0 < answer["remaining_ms"] <= 1000  # Lambda-Runtime-Deadline-Ms: the function's 1 s Timeout
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", answer["trace_id"])
    assert answer["memory_limit_in_mb"] == "128"
    assert answer["log_group"] == f"/aws/lambda/{answer['function_name']}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", answer["log_stream"])
    report = wait_for_line(life, f"REPORT RequestId: {answer['request_id']}")
    assert report.startswith(f"[Fn {answer['request_id']}] REPORT RequestId: {answer['request_id']}\tDuration: ")
    assert "\tMemory Size: 128 MB\tMax Memory Used: " in report and report.endswith("\t")


def max_memory_used(gw, request_id: str) -> int:
    report = wait_for_line(gw, f"REPORT RequestId: {request_id}")
    return int(report.split("\tMax Memory Used: ")[1].split(" MB")[0])


def test_max_memory_used_is_the_environments_high_water_mark_read_afresh_each_invocation(life):
    ws = connect(life)
    try:
        before, spiked, after = ask(ws), ask(ws, "spike"), ask(ws)
    finally:
        ws.close()
    assert before["pid"] == spiked["pid"] == after["pid"]
    first, peak, last = (max_memory_used(life, a["request_id"]) for a in (before, spiked, after))
    assert 10 < first and peak >= first + 35  # the 40 MiB the handler held, though freed before answering
    assert last >= peak  # a high-water mark: it never falls while the environment lives


@pytest.mark.parametrize(
    ("do", "reason"),
    [
        ("exit", "Runtime exited with error: exit status 3"),
        ("exit0", "Runtime exited without providing a reason"),
        ("segfault", "Runtime exited with error: signal: segmentation fault"),
        ("kill9", "Runtime exited with error: signal: killed"),
    ],
)
def test_a_runtime_that_exits_fails_its_invocation_and_is_replaced(life, do, reason):
    ws = connect(life)
    try:
        before = ask(ws)
        frame = ask(ws, do)
        assert is_internal_error(frame)  # the connection stays open, as on AWS
        after = ask(ws)
    finally:
        ws.close()
    assert after["pid"] != before["pid"]
    assert not alive(before["pid"])
    line = wait_for_line(life, f"Error: {reason}")
    request_id = line.split("RequestId: ")[1].split()[0]
    assert line == f"[Fn {request_id}] RequestId: {request_id} Error: {reason}"
    assert f"[Fn {request_id}] Runtime.ExitError" in life.logs
    report = wait_for_line(life, f"REPORT RequestId: {request_id}")
    assert report.endswith("\tStatus: error\tError Type: Runtime.ExitError\t")


def test_a_handler_past_its_timeout_is_killed_and_the_next_event_gets_a_fresh_environment(life):
    ws = connect(life)
    try:
        before = ask(ws)
        started = time.monotonic()
        frame = ask(ws, "loop")
        took = time.monotonic() - started
        after = ask(ws)
    finally:
        ws.close()
    assert is_internal_error(frame)
    assert 0.9 <= took < 3.0  # Timeout: 1
    assert after["pid"] != before["pid"] and not alive(before["pid"])
    line = wait_for_line(life, "Task timed out after 1.00 seconds")
    request_id = line.split()[1].rstrip("]")
    assert re.fullmatch(rf"\[Fn {request_id}\] \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {request_id} Task timed out after 1.00 seconds", line)
    report = wait_for_line(life, f"REPORT RequestId: {request_id}")
    assert "\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t" in report and report.endswith("\tStatus: timeout\t")
    logs = life.logs
    assert logs.index(report) < logs.index(line)  # the timeout line follows REPORT [AWS-REC]


def test_an_environment_past_its_memory_size_is_killed(life):
    ws = connect(life)
    try:
        before = ask(ws)
        frame = ask(ws, "hog")
        after = ask(ws)
    finally:
        ws.close()
    assert is_internal_error(frame)
    assert after["pid"] != before["pid"] and not alive(before["pid"])
    line = wait_for_line(life, "Error Type: Runtime.OutOfMemory")
    assert "\tMax Memory Used: 128 MB\t" in line  # the limit, as AWS reports it
    request_id = line.split("RequestId: ")[1].split("\t")[0]
    assert f"[Fn {request_id}] RequestId: {request_id} Error: Runtime exited with error: signal: killed" in life.logs


def test_a_handler_exception_is_logged_as_the_python_runtime_logs_it(life):
    ws = connect(life)
    try:
        before = ask(ws)
        frame = ask(ws, "raise")
        after = ask(ws)
    finally:
        ws.close()
    assert is_internal_error(frame)
    assert after["pid"] == before["pid"]  # a handled error keeps the environment
    line = wait_for_line(life, "[ERROR] ValueError: asked to fail")
    request_id = line.split()[1].rstrip("]")
    logs = life.logs
    at = logs.index(line)
    assert logs[at + 1] == f"[Fn {request_id}] Traceback (most recent call last):"
    assert logs[at + 2].startswith(f"[Fn {request_id}] \u00a0\u00a0File ")  # NBSP indentation, as AWS's


def test_output_is_framed_by_start_end_and_report(life):
    ws = connect(life)
    try:
        answer = ask(ws, "print")
    finally:
        ws.close()
    rid = answer["request_id"]
    report = wait_for_line(life, f"REPORT RequestId: {rid}")
    logs = life.logs
    mine = [line for line in logs if line.startswith(f"[Fn {rid}] ")]
    assert mine == [
        f"[Fn {rid}] START RequestId: {rid} Version: $LATEST",
        f"[Fn {rid}] line one",
        f"[Fn {rid}] line two",
        f"[Fn {rid}] END RequestId: {rid}",
        report,
    ]


def test_events_beyond_the_warm_environments_start_new_ones_up_to_the_concurrency(wide):
    sockets = [connect(wide) for _ in range(6)]
    try:
        for ws in sockets:
            ws.send('{"do": "sleep"}')  # 0.4 s each, all at once
        pids = [json.loads(ws.recv())["pid"] for ws in sockets]
    finally:
        for ws in sockets:
            ws.close()
    # concurrency=4: four environments served the six events; two events waited for a free one
    assert len(set(pids)) == 4
    assert wide.runtimes["Fn"].live == 4


def test_reserved_concurrency_caps_the_function_and_throttles_past_it(tmp_path):
    template = write_life(tmp_path)
    text = template.read_text().replace("      MemorySize: 128\n", "      MemorySize: 128\n      ReservedConcurrentExecutions: 1\n")
    template.write_text(text)
    with LocalGateway(template, dynamodb=False, isolation="process", concurrency=10) as gw:
        first, second = connect(gw), connect(gw)
        try:
            first.send('{"do": "sleep"}')  # 0.4 s in the only environment the function may have
            time.sleep(0.1)
            throttled = ask(second)
            answered = json.loads(first.recv())
        finally:
            first.close()
            second.close()
        assert gw.runtimes["Fn"].live == 1
    assert throttled["message"] == "Internal server error"  # Lambda's 429, as API Gateway reports it
    assert "pid" in answered


def test_reserved_concurrency_zero_refuses_every_connection(tmp_path):
    from emukit import HEADER, function, handshake_status, integration, route

    (tmp_path / "life.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    text = HEADER + function("Fn", "life.handler") + integration("I", "Fn") + route("C", "$connect", "I")
    (tmp_path / "template.yaml").write_text(text.replace("      Timeout: 3\n", "      Timeout: 3\n      ReservedConcurrentExecutions: 0\n"))
    with LocalGateway(tmp_path / "template.yaml", dynamodb=False, isolation="process") as gw:
        assert handshake_status(gw, "") == 500  # UNCONFIRMED status: Behaviour(throttled_connect_status)


@pytest.mark.parametrize(("reuse", "expected"), [(True, 1), (False, None)])
def test_an_event_sent_the_moment_the_previous_answer_arrives_reuses_the_answering_environment(
    tmp_path, reuse, expected
):
    # GIVEN room for four environments, and each event submitted as soon as the previous one's answer
    # is in: its environment has answered but its runtime has not yet asked for the next event
    template = write_life(tmp_path / f"reuse-{reuse}")
    lifecycle = Lifecycle(reuse_answering=reuse)
    with LocalGateway(template, dynamodb=False, isolation="process", concurrency=4, lifecycle=lifecycle) as gw:
        pool = gw.runtimes["Fn"]
        event = {"requestContext": {"eventType": "MESSAGE", "routeKey": "$default"}, "body": "{}"}

        async def back_to_back() -> list[int]:
            answers = [await pool.submit(event) for _ in range(8)]
            return [json.loads(a.value["body"])["pid"] for a in answers]

        pids = gw.run_coroutine(back_to_back())
    # THEN with the knob on (the default) one environment takes them all, as back-to-back invocations
    # are seen to on Lambda; off, an event that finds no environment waiting in /next starts another
    if expected is not None:
        assert len(set(pids)) == expected
    else:
        assert len(set(pids)) > 1
