"""A function's execution environments, managed as the Lambda service manages them.

Environments start on demand, one event at a time each, up to the function's concurrency, and are
reused warm; events wait when all are busy. An event routed to a new environment waits for its init
(limited to 10 s). The function's ``Timeout`` counts from when the environment takes the event; past it
the environment is killed, the caller gets ``Sandbox.Timedout`` and the next event a fresh one. A
runtime that exits (``sys.exit``, a segfault, ``kill -9``) fails its invocation with
``Runtime.ExitError``; one that grows past ``MemorySize`` is killed. Idle environments are shut down
after a while (SIGTERM, then SIGKILL), and so is any environment whose code changed on disk.
Every invocation is framed in the log by ``START``/``END``/``REPORT`` (lambda-runtime-reference §3).
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wsapp.emulator.awslambda import environment as variables
from wsapp.emulator.awslambda import outcomes
from wsapp.emulator.awslambda import platform_logs as platform
from wsapp.emulator.awslambda.codeversions import CodeVersions
from wsapp.emulator.awslambda.forking import ForkServer
from wsapp.emulator.awslambda.invocation import Invocation
from wsapp.emulator.awslambda.launch import Launch
from wsapp.emulator.awslambda.layers import ModulePath
from wsapp.emulator.awslambda.lifecycle import DEBUG_TIMEOUT, Lifecycle
from wsapp.emulator.awslambda.sandbox import Phase, ProcessEnvironment, exit_reason
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import Account, FunctionSpec


@dataclass
class _Job:
    request_id: str
    body: bytes
    future: asyncio.Future[Invocation]
    timeout: float | None
    arn: str  # Lambda-Runtime-Invoked-Function-Arn: the ARN the caller named
    env: ProcessEnvironment | None = None
    started: float = 0.0  # monotonic time the environment took it
    finished: bool = False
    timers: list[asyncio.TimerHandle] = field(default_factory=list)


@dataclass
class _Slot:
    """What the pool keeps about one environment."""

    env: ProcessEnvironment
    job: _Job | None = None  # the event the environment serves (or was started for)
    idle_since: float = 0.0
    ready: asyncio.Future[None] | None = None  # for prewarm: init finished or failed
    init_error: dict[str, Any] | None = None
    killed_for: str | None = None  # "timeout", "memory", "retired", "shutdown"
    retry_init: bool = False  # started again after an init timeout: its init counts against the event


class FunctionPool:
    """The Lambda service for one function (an ``invocation.Function``)."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        account: Account,
        launch: Launch,
        wiring: Mapping[str, str],
        sink: LogSink,
        concurrency: int = 10,
        request_ids: Callable[[], str] = lambda: secrets.token_hex(16),
        overrides: Mapping[str, str] = {},
        versions: CodeVersions | None = None,
        lifecycle: Lifecycle | None = None,
        debug: bool = False,
        debug_command: tuple[str, ...] | None = None,
        extra_args: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        forkserver: ForkServer | None = None,
        module_path: ModulePath | None = None,
    ) -> None:
        self.spec = spec
        self.module_path = module_path or ModulePath()  # its dependencies' and layers' folders
        self.host = host
        self.forkserver = forkserver
        self.account = account
        self.launch = launch
        self.wiring = dict(wiring)
        self.overrides = dict(overrides)
        self.sink = sink
        # ReservedConcurrentExecutions caps the function and throttles past the cap [DOC §7]; without it
        # --concurrency caps the environments and events wait for one (a local resource limit).
        self.reserved = spec.reserved_concurrency
        self.concurrency = (
            1 if debug else (self.reserved if self.reserved is not None else max(1, concurrency))
        )
        self.request_ids = request_ids
        self.versions = versions
        self.lifecycle = lifecycle or Lifecycle()
        self.debug = debug
        self.command = (*(debug_command or launch.command), *extra_args, spec.handler)
        self.invocations = 0
        self.cold_starts = 0
        self.on_deliver: Callable[[str, str, bool], None] | None = None  # (request id, env, cold)
        self.environment: dict[str, str] = self._variables("")  # the latest environment's variables
        self._slots: dict[ProcessEnvironment, _Slot] = {}
        self._idle: list[ProcessEnvironment] = []
        self._queue: deque[_Job] = deque()
        self._closing = False
        self._housekeeping: asyncio.TimerHandle | None = None
        self._memory_timer: asyncio.TimerHandle | None = None

    # -- environments -------------------------------------------------------------------------------
    def _variables(self, runtime_api: str) -> dict[str, str]:
        lambda_set = variables.lambda_variables(
            self.spec,
            self.account,
            runtime_api=runtime_api,
            runtime_dir=self.launch.runtime_dir,
            interpreter_dir=self.launch.interpreter_dir,
            paths=self.module_path,
        )
        return variables.compose(lambda_set, self.wiring, self.spec, self.overrides)

    def _environment_for(self, runtime_api: str) -> dict[str, str]:
        self.environment = self._variables(runtime_api)
        return self.environment

    @property
    def live(self) -> int:
        return sum(1 for s in self._slots.values() if s.killed_for is None)

    @property
    def environments(self) -> list[ProcessEnvironment]:
        return [s.env for s in self._slots.values() if s.killed_for is None]

    def _spawn(self, job: _Job | None, *, retry_init: bool = False, prewarm: bool = False) -> _Slot:
        loop = asyncio.get_running_loop()
        env = ProcessEnvironment(
            self,
            label=self.spec.logical_id,
            command=self.command,
            variables=self._environment_for,
            cwd=str(self.spec.code_root),
            sink=self.sink,
            interactive=self.debug,
            host=self.host,
            forkserver=self.forkserver,
        )
        env.generation = self._generation()
        slot = _Slot(env, job=job, ready=loop.create_future() if prewarm else None, retry_init=retry_init)
        self._slots[env] = slot
        self.cold_starts += 1
        if job is not None:
            job.env = env
        self._emit(
            env, platform.init_start(self.spec.runtime, self.account.region, self.launch.local_version)
        )
        task = loop.create_task(self._start(slot))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are reported below
        self._ensure_housekeeping()
        return slot

    async def _start(self, slot: _Slot) -> None:
        try:
            await slot.env.start()
        except OSError as exc:  # the process could not even start (permissions, missing interpreter)
            slot.init_error = {"errorType": "Runtime.InvalidEntrypoint", "errorMessage": str(exc)}
            self._forget(slot)
            self._init_failed(slot, "Runtime.InvalidEntrypoint")
            return
        limit = None if self.debug else self.lifecycle.init_limit
        if slot.retry_init and slot.job is not None and slot.job.timeout is not None:
            limit = slot.job.timeout
        if limit is not None:
            asyncio.get_running_loop().call_later(limit, self._init_deadline, slot, limit)

    def _init_deadline(self, slot: _Slot, limit: float) -> None:
        env = slot.env
        if env.phase is not Phase.INIT or slot.killed_for is not None:
            return
        slot.killed_for = "init-timeout"
        env.kill()
        phase = "invoke" if slot.retry_init else "init"
        self._emit(env, platform.init_report(limit * 1000, phase=phase, status="timeout"))
        job = slot.job
        if slot.retry_init or job is None:
            self._resolve_ready(
                slot, EmulatorError(f"{self.spec.logical_id}: init timed out after {limit:g} s")
            )
            if job is not None and not job.finished:
                self._emit(env, platform.start(job.request_id), job.request_id)
                self._report(env, job, duration_ms=limit * 1000, status="timeout")
                self._emit(env, platform.timed_out(job.request_id, limit), job.request_id)
                self._fail_timeout(job, limit)
            self._refill()
            return
        # Lambda retries the init at the time of the first invocation, with the function's timeout [DOC].
        self._forget(slot)
        retry = self._spawn(job, retry_init=True)
        job.started = time.monotonic()
        retry.job = job

    async def prewarm(self) -> None:
        """Start one environment now and wait for its init (a bad handler fails here, at start)."""
        if self.concurrency == 0:
            return  # ReservedConcurrentExecutions: 0 — the function never runs
        slot = self._spawn(None, prewarm=True)
        assert slot.ready is not None
        await slot.ready

    def _resolve_ready(self, slot: _Slot, error: BaseException | None = None) -> None:
        if slot.ready is not None and not slot.ready.done():
            if error is None:
                slot.ready.set_result(None)
            else:
                slot.ready.set_exception(error)

    # -- Owner callbacks (from the environment) -----------------------------------------------------
    def on_ready(self, env: ProcessEnvironment) -> None:
        slot = self._slots.get(env)
        if slot is None or slot.killed_for is not None:
            return
        self._resolve_ready(slot)
        job, slot.job = slot.job, None
        if job is not None and not job.finished:
            self._deliver(slot, job)
        else:
            self._next_or_idle(slot)

    def on_response(self, env: ProcessEnvironment, request_id: str, body: bytes, content_type: str) -> None:
        slot, job = self._finishing(env, request_id)
        if job is None or slot is None:
            return
        self._finish(slot, job, outcomes.response(request_id, body, self._ms(job)))

    def on_error(self, env: ProcessEnvironment, request_id: str, body: bytes, error_type: str) -> None:
        slot, job = self._finishing(env, request_id)
        if job is None or slot is None:
            return
        self._finish(slot, job, outcomes.runtime_error(request_id, body, error_type, self._ms(job)))

    def on_too_large(self, env: ProcessEnvironment, request_id: str) -> None:
        slot, job = self._finishing(env, request_id)
        if job is None or slot is None:
            return
        self._finish(slot, job, outcomes.too_large(request_id, self._ms(job)))

    def on_init_error(self, env: ProcessEnvironment, body: bytes, error_type: str) -> None:
        slot = self._slots.get(env)
        if slot is not None:
            slot.init_error = outcomes.error_payload(body, error_type)

    def on_exit(self, env: ProcessEnvironment, status: int) -> None:
        slot = self._slots.get(env)
        if slot is None:
            return  # already accounted for: timed out, retired, reaped, shut down
        self._forget(slot)
        if slot.killed_for not in (None, "memory"):
            return
        job = slot.job
        if env.init_ms is None or slot.init_error is not None:  # died during init
            self._init_failed(slot, _init_error_type(slot), status)
        elif job is not None and not job.finished:  # died serving an event
            self._crashed(env, job, status, memory=slot.killed_for == "memory")
        else:
            self._emit(env, f"{exit_reason(status)} (while idle; a fresh environment takes the next event)")
        self._refill()

    # -- delivering and finishing -------------------------------------------------------------------
    def submit(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        wait: float | None = None,
        invoked_arn: str | None = None,
        scale: bool = False,
    ) -> asyncio.Future[Invocation]:
        """Start an invocation; the future resolves to its :class:`Invocation` (see ``invocation.py``)."""
        loop = asyncio.get_running_loop()
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        timeout = None if self.debug else self.spec.timeout
        job = _Job(
            request_id or self.request_ids(),
            body,
            loop.create_future(),
            timeout,
            invoked_arn or self.spec.arn,
        )
        if wait is not None and not self.debug:
            job.timers.append(loop.call_later(wait, _give_up, job))
        if self._closing:
            _settle(job, outcomes.stopped(job.request_id))
            return job.future
        env = self._take_idle()
        if env is not None:
            self._deliver(self._slots[env], job)
        elif self.lifecycle.reuse_answering and self._answering() > len(self._queue):
            self._queue.append(job)  # an environment that has just answered takes it at its /next
        elif self.live < self.concurrency:
            self._spawn(job)
        elif self.reserved is not None:
            _settle(job, outcomes.throttled(job.request_id))
        elif scale and not self.debug:
            # On-demand scaling up to the account's concurrency [DOC §7]; past it Lambda throttles.
            if self.live < self.lifecycle.account_concurrency:
                self._spawn(job)
            else:
                _settle(job, outcomes.throttled(job.request_id, "ConcurrentInvocationLimitExceeded"))
        else:
            self._queue.append(job)
        return job.future

    async def invoke(
        self, event: Any, request_id: str | None = None, wait: float | None = None
    ) -> Invocation:
        return await self.submit(event, request_id=request_id, wait=wait)

    def _answering(self) -> int:
        """Environments that answered and are about to ask for the next event (``Phase.DONE``)."""
        return sum(
            1
            for s in self._slots.values()
            if s.killed_for is None and s.env.phase is Phase.DONE and not self._stale(s.env)
        )

    def _take_idle(self) -> ProcessEnvironment | None:
        while self._idle:
            env = self._idle.pop()  # the most recently used: the warmest
            slot = self._slots.get(env)
            if slot is None or slot.killed_for is not None or env.phase is not Phase.IDLE:
                continue
            if self._stale(env):
                self._retire(slot)
                continue
            return env
        return None

    def _generation(self) -> int:
        """The version of its code on disk: the code folder's and its layers' (each only ever grows)."""
        if self.versions is None:
            return 0
        roots = (self.spec.code_root, *self.module_path.watched)
        return sum(self.versions.generation(root) for root in roots)

    def _stale(self, env: ProcessEnvironment) -> bool:
        return env.generation < self._generation()

    def _deliver(self, slot: _Slot, job: _Job) -> None:
        env = slot.env
        if self._stale(env) and slot.killed_for is None:
            self._retire(slot)  # edited code: the event goes to a fresh environment, as after a deploy
            self._spawn(job)
            return
        slot.job, job.env = job, env
        if not slot.retry_init or not job.started:
            job.started = time.monotonic()
        self.invocations += 1
        timeout = DEBUG_TIMEOUT if job.timeout is None else job.timeout
        remaining = timeout - (time.monotonic() - job.started)
        deadline_ms = int(time.time() * 1000 + remaining * 1000)
        self._emit(env, platform.start(job.request_id), job.request_id)
        env.deliver(job.request_id, deadline_ms, job.arn, _trace_id(), job.body)
        if self.on_deliver is not None:  # which environment took it, and whether it was its first
            self.on_deliver(
                job.request_id, f"pid {env.process.pid if env.process else '?'}", env.invocations == 1
            )
        if job.timeout is not None:
            job.timers.append(asyncio.get_running_loop().call_later(max(0.0, remaining), self._expire, job))
        self._watch_memory()

    def _finishing(self, env: ProcessEnvironment, request_id: str) -> tuple[_Slot | None, _Job | None]:
        slot = self._slots.get(env)
        job = slot.job if slot is not None else None
        if job is None or job.request_id != request_id or job.finished:
            return slot, None
        return slot, job

    def _finish(self, slot: _Slot, job: _Job, result: Invocation, **report: Any) -> None:
        env = slot.env
        job.finished = True
        slot.job = None
        self._report(env, job, **report)
        _settle(job, result)  # the environment takes more work when its runtime asks for it (on_ready)

    def _report(
        self, env: ProcessEnvironment, job: _Job, *, duration_ms: float | None = None, **extra: Any
    ) -> None:
        if not self.sink.active:
            return
        peak = env.peak_mb() or 0
        if extra.get("error_type") == "Runtime.OutOfMemory":
            peak = self.spec.memory  # as AWS reports a function killed at its limit [OBS §3.2]
        report = platform.report(
            job.request_id,
            duration_ms=self._ms(job) if duration_ms is None else duration_ms,
            memory_mb=self.spec.memory,
            max_memory_mb=peak,
            init_ms=env.init_ms if env.invocations == 1 else None,
            **extra,
        )
        self.sink.emit_for(self.spec.logical_id, job.request_id, [platform.end(job.request_id), report])

    def _next_or_idle(self, slot: _Slot) -> None:
        env = slot.env
        if slot.killed_for is not None or env.phase is not Phase.IDLE:
            return
        while self._queue:
            job = self._queue.popleft()
            if not job.finished:
                self._deliver(slot, job)
                return
        slot.idle_since = time.monotonic()
        self._idle.append(env)

    def _refill(self) -> None:
        """After an environment went away, start one for the oldest waiting event."""
        while self._queue and self.live < self.concurrency and not self._closing:
            job = self._queue.popleft()
            if not job.finished:
                self._spawn(job)

    def _forget(self, slot: _Slot) -> None:
        self._slots.pop(slot.env, None)
        if slot.env in self._idle:
            self._idle.remove(slot.env)

    def _retire(self, slot: _Slot, why: str = "retired") -> None:
        slot.killed_for = why
        self._forget(slot)
        asyncio.get_running_loop().create_task(self._shutdown(slot.env))

    async def _shutdown(self, env: ProcessEnvironment) -> None:
        """SHUTDOWN: SIGTERM, then SIGKILL after the grace period [DOC §3.1]."""
        env.terminate()
        deadline = time.monotonic() + self.lifecycle.shutdown_grace
        while env.phase is not Phase.DEAD and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        env.kill()

    # -- failures -----------------------------------------------------------------------------------
    def _expire(self, job: _Job) -> None:
        if job.finished or job.env is None:
            return
        slot = self._slots.get(job.env)
        if slot is not None:
            slot.killed_for = "timeout"
            self._forget(slot)
        job.env.drain()
        job.env.kill()  # Lambda resets the environment: the next event gets a fresh one [DOC §3.1]
        timeout = job.timeout or 0.0
        self._report(job.env, job, duration_ms=timeout * 1000, status="timeout")
        self._emit(job.env, platform.timed_out(job.request_id, timeout), job.request_id)
        self._fail_timeout(job, timeout)
        self._refill()

    def _fail_timeout(self, job: _Job, timeout: float) -> None:
        job.finished = True
        _settle(job, outcomes.timed_out(job.request_id, timeout))

    def _crashed(self, env: ProcessEnvironment, job: _Job, status: int, *, memory: bool) -> None:
        text = exit_reason(status)
        for line in platform.exited(job.request_id, text):
            self._emit(env, line, job.request_id)
        error_type = "Runtime.OutOfMemory" if memory else "Runtime.ExitError"
        job.finished = True
        self._report(env, job, status="error", error_type=error_type)
        _settle(job, outcomes.exited(job.request_id, text, self._ms(job)))

    def _init_failed(self, slot: _Slot, error_type: str, status: int = 1) -> None:
        env = slot.env
        init_ms = env.init_ms if env.init_ms is not None else (time.monotonic() - env.started) * 1000
        request_id = slot.job.request_id if slot.job else ""
        payload = slot.init_error or {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: {exit_reason(status)}",
        }
        self._emit(env, platform.init_report(init_ms, phase="init", status="error", error_type=error_type))
        # One line: Node's messages go on with "Require stack:" lines (the log has the whole error).
        message = (str(payload.get("errorMessage") or "").splitlines() or [""])[0]
        error = EmulatorError(f"{self.spec.logical_id}: {payload.get('errorType')}: {message}")
        self._resolve_ready(slot, error)
        job = slot.job
        if job is None or job.finished:
            return
        job.finished = True
        job.started = job.started or time.monotonic()
        self._emit(env, platform.start(job.request_id), job.request_id)
        self._report(env, job, status="error", error_type=error_type)
        _settle(job, outcomes.failed(job.request_id, payload, self._ms(job)))

    # -- housekeeping -------------------------------------------------------------------------------
    def _ensure_housekeeping(self) -> None:
        if self._housekeeping is None and not self._closing:
            self._housekeeping = asyncio.get_running_loop().call_later(1.0, self._tidy)

    def _tidy(self) -> None:
        """Reap environments idle for too long, and retire idle ones whose code changed."""
        self._housekeeping = None
        now = time.monotonic()
        for env in list(self._idle):
            slot = self._slots.get(env)
            if slot is None:
                continue
            if now - slot.idle_since >= self.lifecycle.idle_reap:
                self._retire(slot, "idle")
            elif self._stale(env):
                self._retire(slot)
        if self._slots:
            self._ensure_housekeeping()

    def _watch_memory(self) -> None:
        if self._memory_timer is None:
            self._memory_timer = asyncio.get_running_loop().call_later(
                self.lifecycle.memory_check, self._check_memory
            )

    def _check_memory(self) -> None:
        """``MemorySize`` is a hard limit: an environment that grows past it is killed [OBS §3.2]."""
        self._memory_timer = None
        busy = [s for s in self._slots.values() if s.env.phase is Phase.BUSY and s.killed_for is None]
        for slot in busy:
            rss = slot.env.rss_mb()
            if rss is not None and rss > self.spec.memory:
                slot.killed_for = "memory"
                slot.env.kill()
        if busy:
            self._watch_memory()

    async def close(self) -> None:
        """Shut every environment down (SIGTERM, then SIGKILL) and fail what still waits."""
        self._closing = True
        for handle in (self._housekeeping, self._memory_timer):
            if handle is not None:
                handle.cancel()
        for job in list(self._queue):
            _settle(job, outcomes.stopped(job.request_id))
        self._queue.clear()
        slots = list(self._slots.values())
        for slot in slots:
            slot.killed_for = "shutdown"
        await asyncio.gather(*(self._shutdown(s.env) for s in slots), return_exceptions=True)
        self._slots.clear()
        self._idle.clear()

    # -- log lines ----------------------------------------------------------------------------------
    def _emit(self, env: ProcessEnvironment, line: str, request_id: str | None = None) -> None:
        self.sink.emit_for(self.spec.logical_id, request_id, [line])

    @staticmethod
    def _ms(job: _Job) -> float:
        return (time.monotonic() - job.started) * 1000 if job.started else 0.0

    def __repr__(self) -> str:
        counts = f"live={self.live} idle={len(self._idle)} queued={len(self._queue)}"
        return f"<FunctionPool {self.spec.logical_id} {counts}>"


def _trace_id() -> str:
    """``Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0`` [DOC §1.2]."""
    # Unique, not secret: the PRNG, not the OS's entropy (a syscall per id on the hot path).
    bits = random.getrandbits(160)
    return f"Root=1-{int(time.time()):08x}-{bits >> 64:024x};Parent={bits & (2**64 - 1):016x};Sampled=0"


def _init_error_type(slot: _Slot) -> str:
    if slot.init_error is not None:
        return str(slot.init_error.get("errorType") or "Runtime.Unknown")
    return "Runtime.ExitError"


def _give_up(job: _Job) -> None:
    if not job.future.done():
        job.future.set_result(outcomes.gave_up(job.request_id))


def _settle(job: _Job, result: Invocation) -> None:
    for timer in job.timers:
        timer.cancel()
    job.timers.clear()
    if not job.future.done():
        job.future.set_result(result)
