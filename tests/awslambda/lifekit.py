"""Small apps for the execution-environment tests, written into temporary folders.

Each test app is a template plus handler modules; the handlers do what the message body asks
(crash, hang, allocate, report their environment), so the tests provoke every failure Lambda knows.
"""

from __future__ import annotations

# ruff: noqa: E501 - the templates and handler modules are text, kept on readable lines
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import websocket

EMULATOR_TESTS = Path(__file__).resolve().parents[1] / "emulator"
if str(EMULATOR_TESTS) not in sys.path:
    sys.path.insert(0, str(EMULATOR_TESTS))

from emukit import HEADER, integration, route  # noqa: E402

DEADLINE = 10.0


def function(name: str, handler: str, *, code: str = ".", timeout: int = 1, memory: int = 128, env: dict[str, str] | None = None, runtime: str | None = None) -> str:
    text = f"""\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Handler: {handler}
      CodeUri: {code}
      Timeout: {timeout}
      MemorySize: {memory}
"""
    if runtime:
        text += f"      Runtime: {runtime}\n"
    if env:
        text += "      Environment:\n        Variables:\n"
        text += "".join(f"          {k}: {json.dumps(v)}\n" for k, v in env.items())
    return text


LIFE = '''\
"""Does what the message body's "do" says."""

import ctypes
import json
import os
import sys
import time

STARTED = time.time()  # module state: survives warm invocations, not a new environment
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    if event["requestContext"]["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    do = json.loads(event.get("body") or "{}").get("do", "echo")
    if do == "exit":
        os._exit(3)
    if do == "exit0":
        sys.exit(0)
    if do == "segfault":
        ctypes.string_at(0)
    if do == "kill9":
        os.kill(os.getpid(), 9)
    if do == "loop":
        while True:
            pass
    if do == "hog":
        hog = [bytearray(16 * 2**20) for _ in range(64)]  # 1 GiB, far past MemorySize
        return {"statusCode": 200, "body": str(len(hog))}
    if do == "sleep":
        time.sleep(0.4)
    if do == "spike":
        spike = b"\x01" * (40 * 2**20)  # 40 MiB written, so resident
        del spike  # freed before the answer: only the high-water mark remembers it
    if do == "raise":
        raise ValueError("asked to fail")
    if do == "print":
        print("line one")
        print("line two", file=sys.stderr)
    answer = {
        "pid": os.getpid(),
        "count": COUNT,
        "started": STARTED,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "cwd": os.getcwd(),
        "environ": dict(os.environ),
        "path0": sys.path[0],
    }
    return {"statusCode": 200, "body": json.dumps(answer)}
'''


def write_life(folder: Path, *, timeout: int = 1, memory: int = 128, env: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "life.py").write_text(LIFE)
    text = (
        HEADER
        + function("Fn", "life.handler", timeout=timeout, memory=memory, env=env)
        + integration("Integration", "Fn")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def write_module(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    later = time.time() + 10  # a clearly newer mtime, whatever the file system's granularity
    import os

    os.utime(path, (later, later))
    return path


def connect(gw: Any) -> websocket.WebSocket:
    return websocket.create_connection(gw.url, timeout=DEADLINE)


def ask(ws: websocket.WebSocket, do: str = "echo") -> Any:
    """Send ``{"do": ...}``; the reply frame, JSON-decoded when it is JSON."""
    ws.send(json.dumps({"do": do}))
    text = ws.recv()
    try:
        return json.loads(text)
    except ValueError:
        return text


def wait_for_line(gw: Any, needle: str, timeout: float = DEADLINE) -> str:
    return gw.wait_for_line(needle, timeout)
