"""One execution environment: a child process, its own Runtime API, its log stream.

The process starts with exactly the environment Lambda gives a sandbox (``environment.py``), in the
function's code folder, and talks to the emulator only through the Runtime API it is given. What it
writes to stdout and stderr becomes its log stream, each line prefixed with the function's logical id
and the request id being served. The environment reports to its owner (the function's pool) when the
runtime is ready, answers, fails, or exits; the pool decides what that means for the invocation.
"""

from __future__ import annotations

import asyncio
import codecs
import enum
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from wsapp.emulator.awslambda import runtime_api
from wsapp.emulator.awslambda.forking import ForkedProcess, ForkServer
from wsapp.emulator.logs import LogSink

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PDEATHSIG = ("setpriv", "--pdeathsig", "KILL", "--")  # environments die with the emulator, never orphaned


class Phase(enum.Enum):
    INIT = "init"  # process started, the runtime has not asked for work yet
    IDLE = "idle"  # waiting in GET /next
    BUSY = "busy"  # an event was handed over
    DONE = "done"  # answered; the runtime has not asked for the next event yet
    DEAD = "dead"


class Owner(Protocol):
    """The pool an environment reports to."""

    def on_ready(self, env: ProcessEnvironment) -> None: ...

    def on_response(
        self, env: ProcessEnvironment, request_id: str, body: bytes, content_type: str
    ) -> None: ...

    def on_error(self, env: ProcessEnvironment, request_id: str, body: bytes, error_type: str) -> None: ...

    def on_init_error(self, env: ProcessEnvironment, body: bytes, error_type: str) -> None: ...

    def on_too_large(self, env: ProcessEnvironment, request_id: str) -> None: ...

    def on_exit(self, env: ProcessEnvironment, status: int) -> None: ...


def exit_reason(status: int) -> str:
    """How Lambda words a runtime's exit (Go's ``ProcessState`` text) [AWS-REC §3.2]."""
    if status == 0:
        return "Runtime exited without providing a reason"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        words = {"SIGKILL": "killed", "SIGSEGV": "segmentation fault", "SIGABRT": "aborted"}
        words |= {"SIGTERM": "terminated", "SIGBUS": "bus error", "SIGILL": "illegal instruction"}
        return f"Runtime exited with error: signal: {words.get(name, name.removeprefix('SIG').lower())}"
    return f"Runtime exited with error: exit status {status}"


class _Output:
    """One pipe of the child: decoded, split into lines, prefixed, written to the sink."""

    def __init__(self, env: ProcessEnvironment, fd: int) -> None:
        self.env, self.fd = env, fd
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""
        os.set_blocking(fd, False)

    def read(self) -> bool:
        """Everything the pipe holds now; False at end of file."""
        while self.fd >= 0:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                self.flush()
                return False
            self._text(self.decoder.decode(data))
        return False

    def _text(self, text: str) -> None:
        # The Python runtime joins a traceback's lines with "\r" (one CloudWatch event); show them as lines.
        text = (self.partial + text).replace("\r\n", "\n").replace("\r", "\n")
        *lines, self.partial = text.split("\n")
        if lines:
            self.env.write_lines(lines)
        if self.partial and self.env.show_partial_lines:
            self.env.write_partial(self.partial)  # a prompt, e.g. pdb's "(Pdb) ", must show before input
            self.partial = ""

    def flush(self) -> None:
        if self.partial:
            self.env.write_lines([self.partial])
            self.partial = ""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ProcessEnvironment:
    """One sandbox. ``start()`` spawns it; the owner hands it events with :meth:`deliver`."""

    def __init__(
        self,
        owner: Owner,
        *,
        label: str,
        command: Sequence[str],
        variables: Callable[[str], Mapping[str, str]],
        cwd: str,
        sink: LogSink,
        interactive: bool = False,
        host: str = "127.0.0.1",
        forkserver: ForkServer | None = None,
    ) -> None:
        self.owner = owner
        self.host = host  # where its Runtime API listens (loopback)
        self.forkserver = forkserver  # Python: fork the process (command[1:] is the child's argv)
        self.label = label  # the function's logical id, for the log prefix
        self.command = list(command)
        self.variables = variables  # runtime-api address → the process's whole environment
        self.cwd = cwd
        self.sink = sink
        self.interactive = interactive  # --debug: the terminal's stdin, partial lines shown at once
        self.show_partial_lines = interactive
        self.phase = Phase.INIT
        self.request_id: str | None = None  # the invocation being served
        self.started = time.monotonic()
        self.init_ms: float | None = None  # set when the runtime first asks for work
        self.invocations = 0
        self.generation = 0  # the code version it loaded (the pool retires older ones)
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.status: int | None = None
        self._reply: Callable[[bytes], None] | None = None
        self._server: asyncio.Server | None = None
        self._outputs: list[_Output] = []
        self._pidfd: int | None = None
        self._proc_fds: dict[str, int] = {}  # /proc files read for memory figures, kept open
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._server, address = await runtime_api.serve(self, self.host)
        env = dict(self.variables(address))
        self.started = time.monotonic()
        if self.forkserver is not None:
            await self._fork(env)
        else:
            self._spawn(env)
        for output in self._outputs:
            loop.add_reader(output.fd, self._on_output, output)

    def _spawn(self, env: dict[str, str]) -> None:
        command = self.command
        if shutil.which(_PDEATHSIG[0]):
            command = [*_PDEATHSIG, *command]
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdin=None if self.interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            # Own process group: the terminal's Ctrl-C reaches the emulator, which stops environments in
            # order. Under --debug the environment stays in the foreground group to read the terminal.
            process_group=None if self.interactive else 0,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        pipes = (self.process.stdout, self.process.stderr)
        self._outputs = [_Output(self, os.dup(pipe.fileno())) for pipe in pipes]
        self.process.stdout.close()
        self.process.stderr.close()
        loop = self._loop
        assert loop is not None
        try:
            self._pidfd = os.pidfd_open(self.process.pid)
            loop.add_reader(self._pidfd, self._on_exit)
        except (AttributeError, OSError):  # no pidfd: poll for the exit instead
            loop.call_later(0.05, self._poll_exit)

    async def _fork(self, env: dict[str, str]) -> None:
        assert self.forkserver is not None
        pipes = [os.pipe(), os.pipe()]
        try:
            self.process = await self.forkserver.spawn(
                self.command[1:],
                env,
                self.cwd,
                pipes[0][1],
                pipes[1][1],
                own_group=not self.interactive,
                on_exit=self._exited,
            )
        except BaseException:
            for read, _ in pipes:
                os.close(read)
            raise
        finally:
            for _, write in pipes:
                os.close(write)
        self._outputs = [_Output(self, read) for read, _ in pipes]

    def _on_output(self, output: _Output) -> None:
        if not output.read() and self._loop is not None:
            self._loop.remove_reader(output.fd)

    def drain(self) -> None:
        """Write out what the process has written so far (before END, so its lines come first)."""
        for output in self._outputs:
            output.read()

    def _poll_exit(self) -> None:
        if self.process is None or self.phase is Phase.DEAD:
            return
        if self.process.poll() is None:
            assert self._loop is not None
            self._loop.call_later(0.05, self._poll_exit)
            return
        self._exited(self.process.returncode)

    def _on_exit(self) -> None:
        assert self.process is not None
        status = self.process.poll()
        if status is None:
            try:
                _, raw = os.waitpid(self.process.pid, os.WNOHANG)
            except ChildProcessError:
                raw = 0
            status = os.waitstatus_to_exitcode(raw) if raw else 0
        self._exited(status)

    def _exited(self, status: int) -> None:
        if self.phase is Phase.DEAD:
            return
        self.drain()
        for output in self._outputs:
            output.flush()
        self.status = status
        self.phase = Phase.DEAD
        self._close_handles()
        self.owner.on_exit(self, status)

    def _close_handles(self) -> None:
        loop = self._loop
        if self._pidfd is not None:
            if loop is not None:
                loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        for fd in self._proc_fds.values():
            os.close(fd)
        self._proc_fds.clear()
        for output in self._outputs:
            if loop is not None:
                loop.remove_reader(output.fd)
            output.close()
        self._outputs = []
        if self._server is not None:
            self._server.close()
            self._server = None
        self._reply = None

    def kill(self) -> None:
        """SIGKILL now (timeout, out of memory, crash clean-up); the exit is reported as usual."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    # -- Runtime API (runtime_api.Environment) ------------------------------------------------------
    def next_invocation(self, reply: Callable[[bytes], None]) -> None:
        self._reply = reply
        if self.phase is Phase.INIT:
            self.init_ms = (time.monotonic() - self.started) * 1000
        elif self.phase is Phase.BUSY and self.request_id is not None:
            # GET /next without an answer first: the invocation ends with no response (null).
            request_id, self.request_id = self.request_id, None
            self.phase = Phase.DONE
            self.owner.on_response(self, request_id, b"null", "application/json")
        if self.phase is Phase.DEAD:
            return
        self.phase = Phase.IDLE
        self.owner.on_ready(self)

    def deliver(self, request_id: str, deadline_ms: int, arn: str, trace_id: str, body: bytes) -> None:
        """Answer the runtime's pending ``GET /next`` with this event."""
        assert self._reply is not None and self.phase is Phase.IDLE
        reply, self._reply = self._reply, None
        self.phase, self.request_id = Phase.BUSY, request_id
        self.invocations += 1
        reply(runtime_api.next_response(request_id, deadline_ms, arn, trace_id, body))

    def _current(self, request_id: str) -> bool:
        return self.phase is Phase.BUSY and request_id == self.request_id

    def invocation_response(self, request_id: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        if not self._current(request_id):
            return runtime_api.invalid_request_id()
        self.drain()
        self.phase, self.request_id = Phase.DONE, None
        self.owner.on_response(self, request_id, body, content_type)
        return runtime_api.ACCEPTED

    def invocation_error(self, request_id: str, body: bytes, error_type: str) -> tuple[int, bytes]:
        if not self._current(request_id):
            return runtime_api.invalid_request_id()
        self.drain()
        self.phase, self.request_id = Phase.DONE, None
        self.owner.on_error(self, request_id, body, error_type)
        return runtime_api.ACCEPTED

    def init_error(self, body: bytes, error_type: str) -> tuple[int, bytes]:
        if self.phase is not Phase.INIT:
            return runtime_api.invalid_state(f"init/error in phase {self.phase.value}")
        self.drain()
        self.init_ms = (time.monotonic() - self.started) * 1000
        self.owner.on_init_error(self, body, error_type)
        return runtime_api.ACCEPTED

    def response_too_large(self, request_id: str) -> None:
        if self._current(request_id):
            self.drain()
            self.phase, self.request_id = Phase.DONE, None
            self.owner.on_too_large(self, request_id)

    # -- the log stream -----------------------------------------------------------------------------
    def prefix(self) -> str:
        return f"[{self.label} {self.request_id}] " if self.request_id else f"[{self.label}] "

    def write_lines(self, lines: list[str]) -> None:
        self.sink.emit_for(self.label, self.request_id, lines)

    def write_partial(self, text: str) -> None:
        self.sink.emit(self.prefix() + text)

    # -- memory (from /proc; elsewhere unknown) -----------------------------------------------------
    def rss_mb(self) -> float | None:
        statm = self._proc("statm")
        try:
            return int(statm.split()[1]) * PAGE / 2**20 if statm is not None else None
        except (IndexError, ValueError):
            return None

    def peak_mb(self) -> int | None:
        """``Max Memory Used``: the process's high-water mark of resident memory."""
        status = self._proc("status")
        at = status.find(b"VmHWM:") if status is not None else -1
        if at < 0:
            return None
        try:
            return -(-int(status[at + 6 : status.index(b"kB", at)]) // 1024)
        except ValueError:
            return None

    def _proc(self, name: str) -> bytes | None:
        """``/proc/{pid}/{name}`` as it is now: the file is opened once and re-read from its start
        (procfs regenerates it on every read from offset 0), which halves the cost of REPORT's figure.
        The descriptor names this process, not its pid: once it has exited reads fail, never reaching
        another process that was given the same pid."""
        if self.process is None or self.phase is Phase.DEAD:
            return None
        fd = self._proc_fds.get(name)
        try:
            if fd is None:
                fd = self._proc_fds[name] = os.open(f"/proc/{self.process.pid}/{name}", os.O_RDONLY)
            return os.pread(fd, 8192, 0)
        except OSError:
            return None

    def __repr__(self) -> str:
        pid = self.process.pid if self.process else None
        return f"<ProcessEnvironment {self.label} pid={pid} {self.phase.value}>"
