"""Debugging: ``breakpoint()`` in the terminal under ``--debug``; an IDE attached over debugpy."""

from __future__ import annotations

# ruff: noqa: E501 - templates and protocol messages are kept on one line each
import json
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websocket
from lifekit import HEADER, function, integration, route, write_module

from wsapp.emulator import LocalGateway

WSAPP = shutil.which("wsapp", path=str(Path(sys.executable).parent))

PAUSING = """\
def handler(event, context):
    if event["requestContext"]["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    answer = "as written"
    breakpoint()
    return {"statusCode": 200, "body": answer}
"""


def write_app(folder: Path, source: str) -> Path:
    write_module(folder, "app.py", source)
    text = HEADER + function("Fn", "app.handler") + integration("I", "Fn") + route("D", "$default", "I", two_way=True)
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Terminal:
    """``wsapp local`` in a pseudo-terminal, as a developer runs it in the foreground."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([WSAPP, "local", *args], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.screen = b""

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    break
        assert text.encode() in self.screen, self.screen.decode(errors="replace")[-2000:]
        return self.screen.decode(errors="replace")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.master)


@pytest.mark.skipif(WSAPP is None, reason="the wsapp command is not installed in this environment")
def test_breakpoint_under_debug_stops_in_the_terminal_and_continues(tmp_path):
    port = free_port()
    term = Terminal("--template", str(write_app(tmp_path, PAUSING)), "--port", str(port), "--debug")
    try:
        term.wait_for("WebSocket URL")
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}/prod", timeout=20)
        ws.send("hello")
        screen = term.wait_for("(Pdb) ")
        assert "-> return {\"statusCode\": 200, \"body\": answer}" in screen
        term.type("answer = 'changed at the prompt'")
        term.type("c")
        assert ws.recv() == "changed at the prompt"  # --debug: no timeout cut the pause short
        ws.close()
    finally:
        term.close()


class Dap:
    """Just enough of the Debug Adapter Protocol to attach, as VS Code and PyCharm do."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 20
        while True:  # debugpy listens once its process has started (slower on a loaded machine)
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.seq, self.buffer = 0, b""

    def request(self, command: str, arguments: dict) -> None:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def message(self) -> dict:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        size = int(head.split(b":")[1])
        while len(self.buffer) < size:
            self.buffer += self.sock.recv(65536)
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return json.loads(body)

    def attach(self) -> None:
        self.request("initialize", {"adapterID": "python", "clientID": "wsapp-tests"})
        self.request("attach", {"justMyCode": True})
        for _ in range(50):
            message = self.message()
            if message.get("event") == "initialized":
                self.request("configurationDone", {})
            if message.get("command") == "configurationDone":
                assert message["success"], message
                return
        raise AssertionError("debugpy never finished the attach")


def test_debug_port_waits_for_an_ide_to_attach_then_runs_the_handler(tmp_path):
    source = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ran under debugpy"}\n'
    template = write_app(tmp_path, source)
    port = free_port()
    with LocalGateway(template, dynamodb=False, isolation="process", debug_port=port) as gw:
        ws = websocket.create_connection(gw.url, timeout=1.5)
        try:
            ws.send("hello")
            with pytest.raises(websocket.WebSocketTimeoutException):
                ws.recv()  # the environment waits for the debugger (--wait-for-client)
            Dap(port).attach()
            ws.settimeout(20)
            assert ws.recv() == "ran under debugpy"
        finally:
            ws.close()
        assert f"[Fn] waiting for a debugger to attach on 127.0.0.1:{port} (debugpy)" in gw.logs


def test_debug_port_with_several_functions_needs_to_know_which(tmp_path):
    from wsapp.emulator import EmulatorError

    write_module(tmp_path, "app.py", "def handler(event, context):\n    return {}\n")
    text = (
        HEADER + function("A", "app.handler") + function("B", "app.handler")
        + integration("I", "A") + route("D", "$default", "I") + integration("J", "B") + route("C", "$connect", "J")
    )  # fmt: skip
    (tmp_path / "template.yaml").write_text(text)
    with pytest.raises(EmulatorError, match=r"^--debug-port needs --debug-function: one of A, B$"):
        LocalGateway(tmp_path / "template.yaml", dynamodb=False, isolation="process", debug_port=free_port()).start()
