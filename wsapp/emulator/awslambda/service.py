"""The Lambda service for a template: one pool of execution environments per function.

``isolation="process"`` (the default) runs every environment as its own process on the Runtime API
(``pool.py``). ``isolation="thread"`` runs handlers in threads of this process (``threads.py``): faster,
but functions share ``sys.modules``, so two functions that import the same module name from different
code folders cannot both run; that template is refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from wsapp.emulator.awslambda import environ, output
from wsapp.emulator.awslambda.codeversions import CodeVersions
from wsapp.emulator.awslambda.dependencies import Dependencies
from wsapp.emulator.awslambda.environment import (
    LOCAL_CREDENTIALS,
    check_template_variables,
    family,
    overrides_for,
    python_shared_variables,
)
from wsapp.emulator.awslambda.forking import PRELOADED_PACKAGES, ForkServer
from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.awslambda.launch import PYTHON_BOOTSTRAP, launch_for
from wsapp.emulator.awslambda.layers import ModulePath, prepare
from wsapp.emulator.awslambda.lifecycle import Lifecycle
from wsapp.emulator.awslambda.modules import already_loaded, offered, shared_path
from wsapp.emulator.awslambda.pool import FunctionPool
from wsapp.emulator.awslambda.reload import CodeWatcher
from wsapp.emulator.awslambda.threads import FunctionRuntime
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import Account, FunctionSpec

ISOLATIONS = ("process", "thread")
ISOLATION_VARIABLE = "WSAPP_ISOLATION"


def default_isolation() -> str:
    """``$WSAPP_ISOLATION`` when set (a whole test run in one mode, say), else ``process``."""
    return os.environ.get(ISOLATION_VARIABLE) or "process"


@dataclass(frozen=True)
class Debugging:
    """``--debug``: no timeouts, one environment per function, the terminal's stdin for ``breakpoint()``;
    ``port``: the function named ``function`` starts under debugpy and waits for an IDE to attach."""

    enabled: bool = False
    port: int | None = None
    function: str | None = None


@dataclass(frozen=True)
class SdkRoute:
    """Where the functions' SDK calls to local endpoints go without a TCP round trip."""

    channel: str  # the SDK channel's socket (process isolation, Python)
    endpoints: tuple[str, ...] = field(default=())
    # Node.js: HTTPS hosts whose requests go to the gateway's address instead (host:port), over plain
    # HTTP, or over TLS when the gateway serves TLS (the host name kept for SNI and the certificate check).
    callback_hosts: tuple[str, ...] = field(default=())
    callback_target: str = ""
    callback_tls: bool = False


def module_clash(functions: Mapping[str, FunctionSpec]) -> str | None:
    """Why thread isolation cannot run these functions: two import one module name from two folders."""
    seen: dict[str, FunctionSpec] = {}
    for spec in functions.values():
        top = spec.handler.rpartition(".")[0].replace("/", ".").split(".")[0]
        other = seen.setdefault(top, spec)
        if other.code_root != spec.code_root:
            return (
                f"{other.logical_id} and {spec.logical_id} both import module {top!r}, "
                f"from {other.code_root} "
                f"and {spec.code_root}: in one process the second would run the first's code; "
                "use process isolation"
            )
    return None


class LambdaService:
    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        account: Account,
        sink: LogSink,
        wiring: Mapping[str, str],
        isolation: str | None = None,
        concurrency: int = 10,
        request_ids: Callable[[], str],
        debugging: Debugging | None = None,
        env_vars: Mapping[str, Mapping[str, str]] | None = None,
        lifecycle: Lifecycle | None = None,
        host: str = "127.0.0.1",
        dependencies: Dependencies | None = None,
        prewarm: Collection[str] | None = None,
    ) -> None:
        isolation = isolation or default_isolation()
        if isolation not in ISOLATIONS:
            raise EmulatorError(f"isolation must be one of {ISOLATIONS}, not {isolation!r}")
        self.specs = dict(functions)
        self.account = account
        self.sink = sink
        self.wiring = dict(wiring)
        self.isolation = isolation
        self.concurrency = concurrency
        self.request_ids = request_ids
        self.debugging = debugging or Debugging()
        self.env_vars = dict(env_vars or {})
        self.lifecycle = lifecycle
        self.host = host  # for the Runtime API listeners: loopback, always
        # sam build's step: requirements.txt/package.json installed, layers laid out (none given: what
        # is already cached in a temporary folder, nothing installed).
        self.dependencies = dependencies or Dependencies(
            Path(tempfile.gettempdir()) / "wsapp-deps", install=False, sink=sink
        )
        self.module_paths: dict[str, ModulePath] = {}
        self._added_to_sys_path: list[str] = []
        # Started with the service (a bad handler fails at start); the others start on first invocation.
        self.prewarm = set(self.specs if prewarm is None else prewarm)
        self.functions: dict[str, FunctionPool | FunctionRuntime] = {}
        self._versions: CodeVersions | None = None
        self._installed = False
        self._background: set[asyncio.Task[None]] = set()
        self._forkserver: ForkServer | None = None
        self._watcher: CodeWatcher | None = None
        self._check()

    def _check(self) -> None:
        debug = self.debugging
        if debug.port is not None:
            if debug.function is None and len(self.specs) > 1:
                raise EmulatorError(
                    f"--debug-port needs --debug-function: one of {', '.join(sorted(self.specs))}"
                )
            if debug.function is not None and debug.function not in self.specs:
                raise EmulatorError(f"--debug-function {debug.function!r} is not one of {sorted(self.specs)}")
        for spec in self.specs.values():
            check_template_variables(spec)
        if self.isolation == "thread":
            clash = module_clash(self.specs)
            if clash is not None:
                raise EmulatorError(clash)
            others = sorted(s.logical_id for s in self.specs.values() if family(s.runtime) != "python")
            if others:
                raise EmulatorError(f"{others[0]}: only Python functions run with thread isolation")

    # -- what sam build would have made: dependencies and layers ------------------------------------
    def _prepare(self) -> None:
        """Every function's dependencies installed (or found cached) and its layers laid out; the
        layers that are not available locally, one warning line each."""
        self.dependencies.warnings.clear()
        for logical, spec in self.specs.items():
            self.module_paths[logical] = prepare(spec, self.dependencies)
        for warning in dict.fromkeys(self.dependencies.warnings):
            self.sink.emit(f"warning: {warning}\n")

    def _watched_roots(self) -> set[Path]:
        roots = {s.code_root for s in self.specs.values()}
        return roots | {root for paths in self.module_paths.values() for root in paths.watched}

    def _forkable(self, spec: FunctionSpec) -> bool:
        """A Python function forks from the server unless its own code, dependencies or layers hold a
        copy of a package the server already imported (then a fresh interpreter imports that copy)."""
        folders = (spec.code_root, *self.module_paths[spec.logical_id].python)
        return family(spec.runtime) == "python" and not offered(folders, PRELOADED_PACKAGES)

    # -- process isolation --------------------------------------------------------------------------
    async def start(self, sdk: SdkRoute | None = None) -> None:
        """Create the pools and start one environment per function (a bad handler fails here)."""
        await asyncio.to_thread(self._prepare)  # pip/npm may take a while: not on the event loop
        if self.isolation == "thread":
            self._start_threads()
            return
        self._versions = CodeVersions(self._watched_roots())
        self._versions.start()
        debug = self.debugging
        lifecycle = self.lifecycle or Lifecycle()
        forkable = [s for s in self.specs.values() if self._forkable(s)]
        if forkable and lifecycle.python_fork_server and not debug.enabled:
            self._forkserver = ForkServer(python_shared_variables(launch_for(forkable[0])))
            self._forkserver.start()
        waits = []
        for logical, spec in self.specs.items():
            paths = self.module_paths[logical]
            launch = launch_for(spec, paths.bootstrap)
            extra: tuple[str, ...] = ()
            if family(spec.runtime) == "python":
                for folder in paths.python:
                    extra += ("--path", str(folder))
            if family(spec.runtime) == "python" and self.lifecycle is not None:
                extra += ("--thread-polling",) if self.lifecycle.python_thread_polling else ()
            if sdk is not None and family(spec.runtime) == "nodejs" and sdk.callback_hosts:
                for host in sdk.callback_hosts:
                    extra += ("--callback-host", host)
                extra += ("--callback-target", sdk.callback_target)
                extra += ("--callback-tls",) if sdk.callback_tls else ()
            if sdk is not None and family(spec.runtime) == "python" and sdk.endpoints:
                extra += ("--sdk-channel", sdk.channel)
                for endpoint in sdk.endpoints:
                    extra += ("--sdk-endpoint", endpoint)
            debugged = debug.port is not None and (debug.function in (None, logical))
            command = None
            if debugged and family(spec.runtime) == "python":
                listen = f"127.0.0.1:{debug.port}"
                command = (launch.command[0], "-m", "debugpy", "--listen", listen, "--wait-for-client")
                command += (str(PYTHON_BOOTSTRAP),)
            forks = self._forkserver if self._forkable(spec) and command is None else None
            pool = FunctionPool(
                spec,
                account=self.account,
                launch=launch,
                wiring=self.wiring,
                sink=self.sink,
                concurrency=self.concurrency,
                request_ids=self.request_ids,
                overrides=overrides_for(spec, self.env_vars),
                versions=self._versions,
                lifecycle=self.lifecycle,
                debug=debug.enabled or debugged,
                debug_command=command,
                extra_args=extra,
                host=self.host,
                forkserver=forks,
                module_path=paths,
            )
            self.functions[logical] = pool
            if debugged:
                # Started now, so the IDE can attach before the first event; start-up does not wait for it.
                self.sink.emit(
                    f"[{logical}] waiting for a debugger to attach on 127.0.0.1:{debug.port} (debugpy)\n"
                )
                task = asyncio.get_running_loop().create_task(pool.prewarm())
                task.add_done_callback(lambda t, name=logical: self._debugged_init_done(name, t))
                self._background.add(task)
            elif logical in self.prewarm:
                waits.append(pool.prewarm())
        results = await asyncio.gather(*waits, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _debugged_init_done(self, logical: str, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.sink.emit(f"[{logical}] {task.exception()}\n")

    async def stop(self) -> None:
        pools = [f for f in self.functions.values() if isinstance(f, FunctionPool)]
        await asyncio.gather(*(pool.close() for pool in pools), return_exceptions=True)
        if self._versions is not None:
            self._versions.stop()
            self._versions = None
        if self._forkserver is not None:
            self._forkserver.stop()
            self._forkserver = None

    # -- thread isolation ---------------------------------------------------------------------------
    def _start_threads(self) -> None:
        wiring = dict(self.wiring)
        if not os.environ.get("AWS_ACCESS_KEY_ID") and "AWS_ACCESS_KEY_ID" not in wiring:
            wiring |= LOCAL_CREDENTIALS  # Lambda always runs with its role's credentials
        environ.install()
        output.install()
        self._installed = True
        # boto3's default session reads the environment through the object it saw when created; a
        # session made before the overlay existed would hide each function's region and endpoints.
        boto3.DEFAULT_SESSION = None
        self._share_module_path()
        watcher = CodeWatcher(self._watched_roots())
        watcher.purge()  # a fresh cold start for every function
        self._watcher = watcher
        debug = self.debugging.enabled
        for logical, spec in self.specs.items():
            overrides = overrides_for(spec, self.env_vars)
            declared = {k: overrides.get(k, v) for k, v in spec.environment.items()}  # SAM's rule
            runtime = FunctionRuntime(
                dataclasses.replace(spec, environment=declared),
                account=self.account,
                sink=self.sink,
                extra_env=wiring,
                concurrency=1 if debug else self.concurrency,
                request_ids=self.request_ids,
                watcher=watcher,
                enforce_timeout=not debug,
                account_concurrency=(self.lifecycle or Lifecycle()).account_concurrency,
            )
            self.functions[logical] = runtime
            if logical not in self.prewarm:
                continue
            environ.set_thread_environment(dict(runtime.environment))
            try:
                runtime.handler()  # its init phase now, so a bad Handler string fails at start
            finally:
                environ.set_thread_environment(None)

    def _share_module_path(self) -> None:
        """Thread isolation: the functions' dependencies and layers on this process's ``sys.path``,
        refused when two functions would import one name from different folders."""
        paths = {logical: self.module_paths[logical].python for logical in self.specs}
        union, clash = shared_path(paths)
        if clash is not None:
            raise EmulatorError(clash)
        for logical, folders in paths.items():
            warning = already_loaded(logical, folders)
            if warning is not None:
                self.sink.emit(f"warning: {warning}\n")
        added = [str(folder) for folder in union if str(folder) not in sys.path]
        sys.path[0:0] = added  # the code folders go in front of these as their handlers are imported
        self._added_to_sys_path = added

    def close_threads(self) -> None:
        """After the loop stopped: end the worker threads, undo the process-wide patches."""
        for function in self.functions.values():
            if isinstance(function, FunctionRuntime):
                function.close()
        if self._watcher is not None:
            # This process's sys.modules outlives the service: a later gateway whose function has a
            # module of the same name (index, app) in another folder must import its own, not ours.
            self._watcher.purge()
            self._watcher = None
        for entry in self._added_to_sys_path:
            if entry in sys.path:
                sys.path.remove(entry)
        self._added_to_sys_path = []
        if self._installed:
            output.uninstall()
            environ.uninstall()
            self._installed = False

    def function(self, logical: str) -> Function:
        return self.functions[logical]
