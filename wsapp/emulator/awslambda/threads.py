"""Lambda-like execution of a template's functions, in this process.

Each function gets warm *execution environments* (worker threads) that handle one event at a time and
are reused across invocations, up to a concurrency limit; events queue when all are busy. A handler
is imported from its ``Handler`` string with the function's code folder on ``sys.path`` (never by a
module name the emulator knows), runs with its own environment variables and a Lambda context, and
its output is prefixed with function name and request id. The template's ``Timeout`` is enforced:
an environment that overruns is abandoned (Lambda would kill it) and a fresh one takes its place.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import queue
import resource
import sys
import threading
import time
import traceback
import uuid
from asyncio import Future
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wsapp.emulator.awslambda import environ, outcomes, output
from wsapp.emulator.awslambda import platform_logs as platform
from wsapp.emulator.awslambda.invocation import Invocation
from wsapp.emulator.awslambda.reload import CodeWatcher
from wsapp.emulator.errors import HandlerImportError
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import Account, FunctionSpec

_import_lock = threading.RLock()


class LambdaContext:
    """The context object Lambda's Python runtime passes (awslambdaric's attribute names and types)."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline: float, arn: str | None = None) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn or spec.arn
        self.memory_limit_in_mb = str(spec.memory)  # a string on Lambda, read from the environment
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local/[$LATEST]wsapp"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_environment(spec: FunctionSpec, account: Account, extra: Mapping[str, str]) -> dict[str, str]:
    """The variables Lambda sets for every function, then ``extra`` (emulator wiring), then the
    template's own Environment (which wins, as on Lambda)."""
    return {
        "AWS_REGION": account.region,
        "AWS_DEFAULT_REGION": account.region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime or 'python3.12'}",
        "LAMBDA_TASK_ROOT": str(spec.code_root),
        "_HANDLER": spec.handler,
        **extra,
        **spec.environment,
    }


@dataclass
class _Job:
    event: Any
    request_id: str
    timeout: float | None
    done: Callable[[Invocation], None]
    arn: str | None = None  # the ARN the caller named
    abandoned: bool = False
    worker: _Worker | None = field(default=None, repr=False)
    counted_out: bool = False  # no longer counted as running (see FunctionRuntime._finished)
    started: float | None = None  # monotonic time an environment took it (queued time is not run time)


class _Worker(threading.Thread):
    def __init__(self, runtime: FunctionRuntime) -> None:
        super().__init__(name=f"lambda:{runtime.spec.logical_id}", daemon=True)
        self.runtime = runtime
        self.served = False

    def run(self) -> None:
        runtime = self.runtime
        environ.set_thread_environment(dict(runtime.environment))
        while True:
            runtime._idle_inc(1)
            job = runtime._jobs.get()
            runtime._idle_inc(-1)
            if job is None:
                return
            job.worker, job.started = self, time.monotonic()
            cold = not self.served
            if runtime.on_deliver is not None:  # this thread is the environment; its first job is cold
                runtime.on_deliver(job.request_id, f"thread {self.native_id}", cold)
            self.served = True
            init_ms = runtime.init_ms() if cold else None
            runtime.platform_line(job.request_id, platform.start(job.request_id))
            result = runtime._run(job.event, job.request_id, job.timeout, job.arn)
            runtime.report(job.request_id, result, init_ms)
            job.done(result)
            if job.abandoned:
                return  # timed out: Lambda discards this environment; a fresh one replaced it


class FunctionRuntime:
    def __init__(
        self,
        spec: FunctionSpec,
        *,
        account: Account,
        sink: LogSink,
        extra_env: Mapping[str, str] = {},
        concurrency: int = 10,
        request_ids: Callable[[], str] = lambda: str(uuid.uuid4()),
        watcher: CodeWatcher | None = None,
        enforce_timeout: bool = True,
        account_concurrency: int = 1000,
    ) -> None:
        self.spec = spec
        self.environment = lambda_environment(spec, account, extra_env)
        self.sink = sink
        # ReservedConcurrentExecutions caps the function and throttles past the cap [DOC §7].
        self.reserved = spec.reserved_concurrency
        self.concurrency = concurrency if self.reserved is None else self.reserved
        self.account_concurrency = account_concurrency
        self.request_ids = request_ids
        self.watcher = watcher
        self.enforce_timeout = enforce_timeout
        self._handler: Callable[..., Any] | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._live = 0
        self._running = 0  # invocations taken and not yet finished (what reserved concurrency counts)
        self.invocations = 0
        self.on_deliver: Callable[[str, str, bool], None] | None = None  # (request id, env, cold)

    # -- import ---------------------------------------------------------------------------------
    def handler(self) -> Callable[..., Any]:
        """Import the ``Handler`` string (once per code generation), as Lambda's runtime does."""
        if self.watcher is not None and self.watcher.refresh_if_changed():
            self._handler = None
        func = self._handler
        if func is None or getattr(sys.modules.get(func.__module__), func.__name__, None) is not func:
            func = self._handler = self._import()
        return func

    def _import(self) -> Callable[..., Any]:
        module_name, _, attr = self.spec.handler.rpartition(".")
        root = str(self.spec.code_root)
        with _import_lock:
            if root not in sys.path:
                sys.path.insert(0, root)
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # any error while importing is the function's init error
                raise HandlerImportError(self.spec.logical_id, self.spec.handler, _one_line(exc)) from exc
            if self.watcher is not None:
                self.watcher.snapshot()  # the baseline for "edited since imported"
        func = getattr(module, attr, None)
        if not callable(func):
            raise HandlerImportError(
                self.spec.logical_id, self.spec.handler, f"{module_name} has no {attr}()"
            )
        return func

    # -- one invocation, in the calling thread ----------------------------------------------------
    def init_ms(self) -> float:
        """A new thread environment's INIT: finding (the first time, importing) the handler."""
        started = time.monotonic()
        try:
            self.handler()
        except HandlerImportError:
            pass  # the invocation reports it
        return (time.monotonic() - started) * 1000

    def platform_line(self, request_id: str, line: str) -> None:
        self.sink.emit_for(self.spec.logical_id, request_id, [line])

    def report(self, request_id: str, result: Invocation, init_ms: float | None) -> None:
        """END and REPORT as Lambda writes them (platform_logs); Max Memory Used is this process's
        high-water mark, the functions' threads sharing it (UNCONFIRMED: no per-thread figure exists)."""
        if not self.sink.active:
            return
        peak_mb = -(-resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # KiB on Linux
        self.platform_line(request_id, platform.end(request_id))
        line = platform.report(
            request_id,
            duration_ms=result.duration_ms,
            memory_mb=self.spec.memory,
            max_memory_mb=peak_mb,
            init_ms=init_ms,
        )
        self.platform_line(request_id, line)

    def _run(self, event: Any, request_id: str, timeout: float | None, arn: str | None = None) -> Invocation:
        start = time.monotonic()
        deadline = start + (timeout if timeout is not None else self.spec.timeout)
        output.begin(self.sink, self.spec.logical_id, request_id)
        try:
            func = self.handler()
            if isinstance(event, bytes):  # a payload as the Invoke API received it
                event = json.loads(event)
            # The event is built afresh for each invocation, so the handler may keep or change it.
            value = func(event, LambdaContext(self.spec, request_id, deadline, arn))
            try:
                value = json.loads(json.dumps(value))  # Lambda serialises the result to JSON
            except (TypeError, ValueError) as exc:
                return self._error(
                    request_id, start, "Runtime.MarshalError", f"Unable to marshal response: {exc}"
                )
            return Invocation(request_id, True, value, duration_ms=(time.monotonic() - start) * 1000)
        except HandlerImportError as exc:
            print(f"[ERROR] Runtime.ImportModuleError: {exc}", file=sys.stderr)
            return self._error(request_id, start, "Runtime.ImportModuleError", str(exc))
        except Exception as exc:
            # Lambda prints the error and traceback to the function's log, never to the client.
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            # The handler's frames only, as awslambdaric strips its own [PYRIC bootstrap.py, §1.4].
            frames = traceback.extract_tb(exc.__traceback__)[1:]
            trace = traceback.format_list(frames)
            return self._error(request_id, start, type(exc).__name__, str(exc), trace)
        finally:
            self.invocations += 1
            output.end()

    @staticmethod
    def _error(
        request_id: str, start: float, kind: str, message: str, trace: list[str] | None = None
    ) -> Invocation:
        """A failed invocation with the Python runtime's error document [AWS-REC §1.4]."""
        payload = {
            "errorMessage": message,
            "errorType": kind,
            "requestId": request_id,
            "stackTrace": trace or [],
        }
        return Invocation(
            request_id,
            False,
            payload,
            error_type=kind,
            error_message=message,
            duration_ms=(time.monotonic() - start) * 1000,
            body=json.dumps(payload).encode(),  # as awslambdaric serialises it
        )

    def invoke_here(self, event: Any) -> Invocation:
        """Run in the calling thread (``wsapp invoke``, a debugger in the foreground)."""
        environ.set_thread_environment(dict(self.environment))
        try:
            return self._run(event, self.request_ids(), None)
        finally:
            environ.set_thread_environment(None)

    # -- pooled, for the gateway ------------------------------------------------------------------
    @property
    def live(self) -> int:
        """Environments (worker threads) started and not abandoned."""
        return self._live

    def _idle_inc(self, delta: int) -> None:
        with self._lock:
            self._idle += delta

    def _submit(self, job: _Job, scale: bool = False) -> bool:
        """Queue the job (False: throttled, it never runs). ``scale``: past the local concurrency, up to
        the account's, rather than wait for a busy environment (see ``invocation.Function``)."""
        with self._lock:
            if self.reserved is not None and self._running >= self.reserved:
                return False
            self._running += 1
            cap = self.account_concurrency if scale and self.reserved is None else self.concurrency
            spawn = self._idle == 0 and self._live < cap
            if spawn:
                self._live += 1
        self._jobs.put(job)
        if spawn:
            _Worker(self).start()
        return True

    def _finished(self, job: _Job) -> None:
        """Once per job: its worker returned, or it was abandoned on timeout."""
        with self._lock:
            if not job.counted_out:
                job.counted_out = True
                self._running -= 1

    def submit(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        wait: float | None = None,
        invoked_arn: str | None = None,
        scale: bool = False,
    ) -> Future[Invocation]:
        """Start an invocation in a warm environment; the future resolves to its :class:`Invocation`.

        A run past the function's Timeout fails as Lambda's does (``timed_out``) and its environment is
        abandoned. ``wait`` is how long the caller (API Gateway's integration timeout) waits: when it
        is shorter and runs out first, the result is ``gave_up`` while the function itself runs on.
        Timers instead of ``asyncio.wait_for``: no task per invocation on the gateway's hot path.
        """
        loop = asyncio.get_running_loop()
        future: Future[Invocation] = loop.create_future()

        def done(result: Invocation) -> None:
            self._finished(job)
            try:
                loop.call_soon_threadsafe(_settle, future, result)
            except RuntimeError:  # the gateway stopped (its loop closed) while this ran: nobody waits
                pass

        request_id = request_id or self.request_ids()
        timeout = self.spec.timeout if self.enforce_timeout else None
        job = _Job(event, request_id, timeout, done, invoked_arn)
        if not self._submit(job, scale):
            future.set_result(outcomes.throttled(request_id))
            return future
        timers = []
        if wait is not None:
            timers.append(loop.call_later(wait, self._give_up, job, future))
        if timeout is not None:
            timers.append(loop.call_later(timeout, self._expire, job, future, timers))
        if timers:
            future.add_done_callback(lambda _: [t.cancel() for t in timers])
        return future

    @staticmethod
    def _give_up(job: _Job, future: Future[Invocation]) -> None:
        """The caller's own timeout (API Gateway's integration timeout) ran out; the function runs on."""
        if not future.done():
            future.set_result(
                Invocation(job.request_id, False, error_type="IntegrationTimeout", gave_up=True)
            )

    def _expire(self, job: _Job, future: Future[Invocation], timers: list[Any]) -> None:
        """The function's Timeout counts from when an environment took the event, not from the queue."""
        if future.done():
            return
        now = time.monotonic()
        remaining = self.spec.timeout if job.started is None else job.started + self.spec.timeout - now
        if remaining > 0:
            timers.append(asyncio.get_running_loop().call_later(remaining, self._expire, job, future, timers))
            return
        job.abandoned = True
        self._finished(job)
        with self._lock:
            self._live -= 1  # its thread may never return; the slot goes to a fresh environment
        message = f"Task timed out after {self.spec.timeout:.2f} seconds"
        self.sink.emit(f"[{self.spec.logical_id} {job.request_id}] {message}\n")
        future.set_result(outcomes.timed_out(job.request_id, self.spec.timeout))

    async def invoke(
        self, event: Any, request_id: str | None = None, wait: float | None = None
    ) -> Invocation:
        """:meth:`submit` and wait for the outcome."""
        return await self.submit(event, request_id=request_id, wait=wait)

    def close(self) -> None:
        with self._lock:
            live, self._live = self._live, 0
        for _ in range(live):
            self._jobs.put(None)


def _settle(future: asyncio.Future[Invocation], result: Invocation) -> None:
    if not future.done():
        future.set_result(result)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
