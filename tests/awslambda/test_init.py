"""INIT: measured, limited to 10 s, its failures reported as Lambda reports them; edits and idle time
end environments (lambda-runtime-reference §3.1-§3.3)."""

from __future__ import annotations

# ruff: noqa: E501 - AWS's log lines are asserted whole, on one line each
import re
import time

import pytest
from lifekit import (
    HEADER,
    LIFE,
    ask,
    connect,
    function,
    integration,
    route,
    wait_for_line,
    write_life,
    write_module,
)
from websocket import WebSocketBadStatusException, create_connection

from wsapp.emulator import EmulatorError, LocalGateway
from wsapp.emulator.awslambda.lifecycle import Lifecycle


def write_app(folder, module_source: str, *, timeout: int = 1):
    write_module(folder, "app.py", module_source)
    text = (
        HEADER
        + function("Fn", "app.handler", timeout=timeout)
        + integration("Integration", "Fn")
        + route("ConnectRoute", "$connect", "Integration")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import no_such_module\n", "Fn: Runtime.ImportModuleError: Unable to import module 'app': No module named 'no_such_module'"),
        ("def other(event, context):\n    pass\n", "Fn: Runtime.HandlerNotFound: Handler 'handler' missing on module 'app'"),
        ("def handler(event, context)\n", "Fn: Runtime.UserCodeSyntaxError: Syntax error in module 'app': "),
        ("raise RuntimeError('no config')\n", "Fn: RuntimeError: no config"),
    ],
)
def test_an_init_error_at_start_is_one_line_naming_the_function(tmp_path, source, expected):
    template = write_app(tmp_path, source)
    with pytest.raises(EmulatorError) as caught:
        LocalGateway(template, dynamodb=False, isolation="process").start()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


WORKING = LIFE
BROKEN = "import no_such_module\n" + LIFE


def test_an_init_error_fails_the_invocation_as_on_aws_and_a_fix_is_picked_up(tmp_path):
    template = write_app(tmp_path, WORKING)
    with LocalGateway(template, dynamodb=False, isolation="process") as gw:
        ws = connect(gw)
        try:
            before = ask(ws)
            write_module(tmp_path, "app.py", BROKEN)  # edited: the next event gets a new environment
            time.sleep(0.6)
            frame = ask(ws)
            # the open connection is not affected, new ones are refused: $connect's init fails → 502
            with pytest.raises(WebSocketBadStatusException) as refused:
                create_connection(gw.url, timeout=5)
            assert refused.value.status_code == 502
            write_module(tmp_path, "app.py", WORKING)
            time.sleep(0.6)
            after = ask(ws)
        finally:
            ws.close()
    assert frame["message"] == "Internal server error"
    assert after["pid"] != before["pid"]
    report = next(line for line in gw.logs if "Phase: init\tStatus: error" in line)
    assert re.fullmatch(
        r"\[Fn\] INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: Runtime\.ImportModuleError",
        report,
    )
    assert any("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'" in line for line in gw.logs)


SLOW_INIT = "import time\ntime.sleep(3)\n" + LIFE


def test_an_init_past_the_limit_is_retried_within_the_invocation_then_times_out(tmp_path):
    template = write_app(tmp_path, WORKING)
    lifecycle = Lifecycle(init_limit=0.5)  # Lambda's is 10 s; the retry gets the function's Timeout (1 s)
    with LocalGateway(template, dynamodb=False, isolation="process", lifecycle=lifecycle) as gw:
        ws = connect(gw)
        try:
            write_module(tmp_path, "app.py", SLOW_INIT)
            time.sleep(0.6)
            started = time.monotonic()
            frame = ask(ws)
            took = time.monotonic() - started
            write_module(tmp_path, "app.py", WORKING)
            time.sleep(0.6)
            after = ask(ws)
        finally:
            ws.close()
    assert frame["message"] == "Internal server error"
    assert 1.4 <= took < 4.0  # 0.5 s init limit, then the 1 s Timeout for the retried init
    logs = gw.logs
    assert "[Fn] INIT_REPORT Init Duration: 500.00 ms\tPhase: init\tStatus: timeout" in logs
    assert "[Fn] INIT_REPORT Init Duration: 1000.00 ms\tPhase: invoke\tStatus: timeout" in logs
    assert any(line.endswith("Task timed out after 1.00 seconds") for line in logs)
    assert after["count"] == 1  # served by a fresh environment with the fixed code


def test_an_idle_environment_is_shut_down_and_the_next_event_is_a_cold_start(tmp_path):
    template = write_life(tmp_path)
    with LocalGateway(
        template, dynamodb=False, isolation="process", lifecycle=Lifecycle(idle_reap=0.5)
    ) as gw:
        ws = connect(gw)
        try:
            first = ask(ws)
            pool = gw.runtimes["Fn"]
            deadline = time.monotonic() + 5
            while pool.live and time.monotonic() < deadline:
                time.sleep(0.05)
            assert pool.live == 0
            second = ask(ws)
        finally:
            ws.close()
    assert second["pid"] != first["pid"]
    report = wait_for_line(gw, f"REPORT RequestId: {second['request_id']}")
    assert "\tInit Duration: " in report  # a cold start again


def test_stopping_the_gateway_ends_every_environment(tmp_path):
    template = write_life(tmp_path)
    gw = LocalGateway(template, dynamodb=False, isolation="process").start()
    try:
        ws = connect(gw)
        pid = ask(ws)["pid"]
        ws.close()
    finally:
        gw.stop()
    with open(f"/proc/{pid}/stat") if _exists(pid) else _Gone() as f:
        assert f.read().split()[2] == "Z"


def _exists(pid: int) -> bool:
    import os

    return os.path.exists(f"/proc/{pid}")


class _Gone:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self) -> str:
        return "pid state Z"
