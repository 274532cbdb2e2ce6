"""The emulator's side of the Python fork server (``runtimes/python/forkserver.py``).

A cold start that forks a process which already imported boto3 costs a few milliseconds of the
server's time instead of a new interpreter's ~0.3 s of imports, and the environments share the
memory of what was imported before the fork. The server runs with the variables every Python
environment has in common; each child gets its function's own environment complete.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from wsapp.emulator.errors import EmulatorError

SERVER = Path(__file__).resolve().parent / "runtimes" / "python" / "forkserver.py"
# The top-level packages the server has imported before it forks (its PRELOAD and what they import).
# A function whose code, dependencies or layers hold its own copy of one gets a fresh interpreter
# instead, where that copy is the one imported, as on Lambda (the task root and /opt come before the
# runtime's boto3). tests/awslambda/test_layers.py checks the list against PRELOAD.
# urllib3 also imports the compression codecs it finds installed (brotli comes with Locust's
# geventhttpclient in the test extra; never on Lambda): a function that bundles one forks no copy of it.
PRELOADED_PACKAGES = frozenset(
    {"boto3", "botocore", "certifi", "dateutil", "jmespath", "s3transfer", "simplejson", "six", "urllib3"}
    | {"brotli", "_brotli", "brotlicffi", "backports"}
)


class ForkedProcess:
    """A child of the fork server: ``subprocess.Popen``'s few methods the sandbox uses."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def _signal(self, number: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self._signal(9)

    def terminate(self) -> None:
        self._signal(15)


class ForkServer:
    def __init__(self, environment: Mapping[str, str], command: Sequence[str] = (sys.executable,)) -> None:
        self.environment = dict(environment)
        self.command = list(command)
        self.process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._on_exit: dict[int, Callable[[int], None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [*self.command, str(SERVER), str(theirs.fileno())]
        try:
            self.process = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--", *command],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                process_group=0,
            )
        except OSError as exc:
            raise EmulatorError(f"cannot start the Python fork server: {exc}") from None
        finally:
            theirs.close()
        self._control = ours
        ours.setblocking(False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(ours.fileno(), self._read)

    def _read(self) -> None:
        assert self._control is not None
        while True:
            try:
                message = self._control.recv(1 << 16)
            except BlockingIOError:
                return
            except OSError:
                message = b""
            if not message:
                self._server_gone()
                return
            answer = json.loads(message)
            if "exit" in answer:
                pid, status = answer["exit"], answer["status"]
                child = self._children.pop(pid, None)
                if child is not None:
                    child.returncode = status
                callback = self._on_exit.pop(pid, None)
                if callback is not None:
                    callback(status)
                continue
            future = self._waiting.pop(answer["id"], None)
            if "error" in answer:
                if future is not None and not future.done():
                    future.set_exception(OSError(answer["error"]))
                continue
            # Known before anyone awaits it: its exit may come in the very next message.
            child = self._children[answer["pid"]] = ForkedProcess(self, answer["pid"])
            if future is not None and not future.done():
                future.set_result(child)

    def _server_gone(self) -> None:
        assert self._loop is not None and self._control is not None
        self._loop.remove_reader(self._control.fileno())
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(OSError("the Python fork server stopped"))
        self._waiting.clear()
        for pid, callback in list(self._on_exit.items()):  # its children died with it (pdeathsig)
            child = self._children.pop(pid, None)
            if child is not None:
                child.returncode = -9
            callback(-9)
        self._on_exit.clear()

    async def spawn(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        stdout: int,
        stderr: int,
        *,
        own_group: bool,
        on_exit: Callable[[int], None],
    ) -> ForkedProcess:
        """Fork an environment; ``on_exit(status)`` when it ends (negative status: the signal)."""
        if self._control is None or self._loop is None:
            raise OSError("the Python fork server is not running")
        request_id = next(self._ids)
        future: asyncio.Future[ForkedProcess] = self._loop.create_future()
        self._waiting[request_id] = future
        request = {"id": request_id, "argv": list(argv), "env": dict(env), "cwd": cwd, "group": own_group}
        socket.send_fds(self._control, [json.dumps(request).encode()], [stdout, stderr])
        child = await future
        if child.returncode is not None:  # it ended before we got here
            self._loop.call_soon(on_exit, child.returncode)
        else:
            self._on_exit[child.pid] = on_exit
        return child

    def stop(self) -> None:
        if self._loop is not None and self._control is not None:
            try:
                self._loop.remove_reader(self._control.fileno())
            except (ValueError, RuntimeError):
                pass
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        for child in self._children.values():
            child.kill()
