"""Issue 3: bad configuration makes ``wsapp local`` exit 2 with one line on stderr and no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from emukit import HEADER, function, integration, route

REPO = Path(__file__).resolve().parents[2]

ECHO = "def handler(event, context):\n    return {'statusCode': 200}\n"


def no_websocket_api() -> str:
    """A function and nothing else (the Globals give it CodeUri and Runtime)."""
    return HEADER[: HEADER.index("  Api:")] + function("Fn", "cli_ok.handler")


def with_handler(handler: str, variable: str = "") -> str:
    fn = function("Fn", handler)
    if variable:
        fn += f"      Environment:\n        Variables:\n          {variable}\n"
    return HEADER + fn + integration("Integration", "Fn") + route("DefaultRoute", "$default", "Integration")


def missing_parameter() -> str:
    text = with_handler("cli_ok.handler", "GREETING: !Ref Greeting")
    return text.replace("Resources:", "Parameters:\n  Greeting:\n    Type: String\nResources:", 1)


def import_value() -> str:
    return with_handler("cli_ok.handler", "SHARED: !ImportValue other-stack-output")


CASES = {
    "no-websocket-api": no_websocket_api,
    "handler-not-importable": lambda: with_handler("nosuch_module_for_cli.handler"),
    "missing-parameter": missing_parameter,
    "unsupported-intrinsic": import_value,
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every bad configuration, run as ``python -m wsapp local`` in parallel (each start pays imports)."""
    processes: dict[str, subprocess.Popen] = {}
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        for name, make in CASES.items():
            folder = tmp_path_factory.mktemp(name)
            (folder / "cli_ok.py").write_text(ECHO)
            (folder / "template.yaml").write_text(make())
            processes[name] = start(["--template", str(folder / "template.yaml"), "--port", "0"])
        processes["port-in-use"] = start(
            ["--template", str(REPO / "template.yaml"), "--port", str(busy.getsockname()[1])]
        )
        results = {}
        for name, process in processes.items():
            try:
                out, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
            results[name] = (process.returncode, out, err)
        return results
    finally:
        busy.close()
        for process in processes.values():
            if process.poll() is None:
                process.kill()


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wsapp", "local", "--quiet", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_one_line_exit_2(outcome, *needles: str) -> None:
    code, out, err = outcome
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wsapp local: "), err
    assert "Traceback" not in err + out
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


def test_template_without_a_websocket_api_exits_2_with_one_line(outcomes):
    assert_one_line_exit_2(outcomes["no-websocket-api"], "WEBSOCKET")


def test_handler_that_cannot_be_imported_exits_2_with_one_line(outcomes):
    assert_one_line_exit_2(outcomes["handler-not-importable"], "nosuch_module_for_cli")


def test_missing_parameter_exits_2_with_one_line(outcomes):
    assert_one_line_exit_2(outcomes["missing-parameter"], "Greeting")


def test_unsupported_intrinsic_exits_2_with_one_line(outcomes):
    assert_one_line_exit_2(outcomes["unsupported-intrinsic"], "Fn: ", "Fn::ImportValue")


def test_port_in_use_exits_2_with_one_line(outcomes):
    assert_one_line_exit_2(outcomes["port-in-use"], "cannot listen")
