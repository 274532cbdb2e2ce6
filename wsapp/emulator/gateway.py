"""``LocalGateway``: run template.yaml's WebSocket API on this machine.

Usable the same way from a script, a pytest fixture or a notebook cell (whose kernel already runs an
event loop): the gateway always runs its own event loop in a background thread, so both
``with LocalGateway(...) as gw:`` and ``async with LocalGateway(...) as gw:`` work.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from aiohttp import web

from wsapp.emulator import memory
from wsapp.emulator.apigateway.config import Behaviour, Limits
from wsapp.emulator.apigateway.ids import Clock, Ids, wall_clock
from wsapp.emulator.apigateway.integrations.backends import Backends
from wsapp.emulator.apigateway.integrations.flow import NonProxy
from wsapp.emulator.apigateway.server import Gateway
from wsapp.emulator.apigateway.tls import LOOPBACK_NAMES, LocalCA
from wsapp.emulator.awslambda.dependencies import Dependencies
from wsapp.emulator.awslambda.environment import LOCAL_CREDENTIALS
from wsapp.emulator.awslambda.event_queue import AsyncInvoke
from wsapp.emulator.awslambda.event_sources import EventSourcePollers
from wsapp.emulator.awslambda.event_sources.pushed import PushedEvents
from wsapp.emulator.awslambda.invoke_api import InvokeApi
from wsapp.emulator.awslambda.lifecycle import Lifecycle
from wsapp.emulator.awslambda.service import Debugging, LambdaService, SdkRoute, default_isolation
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.inspector.server import Inspector
from wsapp.emulator.logs import LogLine, LogSink, Report, matches
from wsapp.emulator.services import lambda_targets, sdk
from wsapp.emulator.services.moto_server import EmbeddedServices
from wsapp.emulator.services.resources import create_all
from wsapp.emulator.services.schedules import Schedules
from wsapp.emulator.services.sdk_channel import SdkChannel
from wsapp.emulator.template import load_app
from wsapp.emulator.template.model import Account, WebSocketApp

DUMMY_CREDENTIALS = LOCAL_CREDENTIALS  # what functions sign with locally (Lambda gives its role's)
DEFAULT_DEV_SECRET = "wsapp-local-development-secret-not-for-aws"  # == wsapp.auth.LOCAL_DEV_SECRET


class LocalGateway:
    """An API Gateway WebSocket API stage, served on ``ws://{host}:{port}/{stage}``.

    Parameters
    ----------
    template : path of the SAM/CloudFormation template.
    parameters : template parameter overrides. NoEcho parameters without a value get ``dev_secret``.
    host, port : where to listen; port 0 picks a free one. Binds loopback unless told otherwise.
    seed, clock : make ids and times repeatable (``seed=1``, ``clock=SteppingClock()``).
    logs : a stream for function and gateway logs, or None to keep them only in ``gateway.logs``.
    log_lines : how many of the latest log lines ``gateway.logs`` keeps.
    isolation : ``"process"`` (default): every execution environment is a process of its own on the
        Lambda Runtime API; ``"thread"``: handlers run in threads of this process (faster; functions
        then share ``sys.modules``).
    debug : no timeouts and one execution environment per function (for ``breakpoint()``).
    debug_port, debug_function : start that function under debugpy on ``127.0.0.1:debug_port`` and
        wait for an IDE to attach (``sam local invoke -d``).
    env_vars : SAM CLI's ``--env-vars`` content: ``{"Parameters": {...}, "FunctionId": {...}}``.
    lifecycle : init limit, idle reaping, shutdown grace (``awslambda.pool.Lifecycle``).
    async_invoke : the event queue's retry delays and limits for ``Event`` invocations of the Lambda
        Invoke API (``awslambda.event_queue.AsyncInvoke``), served at ``gateway.lambda_endpoint``.
    schedule_scale : multiplies the period of every EventBridge ``rate(...)`` schedule (1/60 fires
        ``rate(1 minute)`` each second); 1 keeps the template's periods.
    inprocess_sdk : answer the functions' ``@connections`` and DynamoDB calls inside this process
        (botocore still serialises, validates, signs and parses them); False sends every call over HTTP.
    isolated_translation : run the SAM transform in a child process, so a long-running gateway does
        not keep the translator in memory (``wsapp local`` does).
    tls : serve ``wss://`` and ``https://`` (as API Gateway does) with a certificate from a local CA;
        clients trust ``ca_bundle``, the functions trust it through ``AWS_CA_BUNDLE``, ``SSL_CERT_FILE``
        and ``NODE_EXTRA_CA_CERTS``. Off by default: plain ``ws://`` and ``http://``.
    tls_dir : where the local CA is kept (default ``$WSAPP_TLS_DIR`` or ``~/.local/share/wsapp/tls``).
    install_dependencies : install each function's (and built layer's) ``requirements.txt`` /
        ``package.json`` as ``sam build`` would, into ``.wsapp/deps/`` beside the template, reused until
        they change; False (``--skip-deps``) only uses installs already there.
    inspector : serve the inspector (every handshake, frame, invocation and ``@connections`` call, live
        in a browser) at ``gateway.inspector_url``, on a loopback port of its own (``inspector_port``,
        0 picks one). Off by default here (recording keeps the last ``inspector_entries`` events and
        costs a few percent of throughput); ``wsapp local`` turns it on.
    """

    def __init__(
        self,
        template: str | Path = "template.yaml",
        *,
        parameters: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        behaviour: Behaviour | None = None,
        account: Account | None = None,
        seed: int | None = None,
        clock: Clock | None = None,
        concurrency: int = 10,
        debug: bool = False,
        logs: IO[str] | None = None,
        dynamodb: bool = True,
        dev_secret: str | None = DEFAULT_DEV_SECRET,
        domain_name: str | None = None,
        credentials: tuple[str, str] | None = None,
        api: str | None = None,
        inprocess_sdk: bool = True,
        isolated_translation: bool = False,
        log_lines: int = 5000,
        isolation: str | None = None,
        debug_port: int | None = None,
        debug_function: str | None = None,
        env_vars: Mapping[str, Mapping[str, str]] | None = None,
        lifecycle: Lifecycle | None = None,
        tls: bool = False,
        tls_dir: str | Path | None = None,
        install_dependencies: bool = True,
        async_invoke: AsyncInvoke | None = None,
        schedule_scale: float = 1.0,
        inspector: bool = False,
        inspector_port: int = 0,
        inspector_entries: int = 2000,
    ) -> None:
        self.template = Path(template)
        self.install_dependencies = install_dependencies
        self.parameters = dict(parameters or {})
        self.host, self.port = host, port
        self.limits, self.behaviour = limits or Limits(), behaviour or Behaviour()
        self.account = account or Account()
        self.ids = Ids(seed)
        self.clock = clock or wall_clock
        self.concurrency = 1 if debug else concurrency
        self.debug = debug
        self.sink = LogSink(logs, keep=log_lines)
        self.use_dynamodb = dynamodb
        self.dev_secret = dev_secret
        self.domain_name = domain_name
        self.credentials = credentials
        self.api = api
        self.inprocess_sdk = inprocess_sdk
        self.isolated_translation = isolated_translation
        self.isolation = isolation or default_isolation()
        self.debug_port, self.debug_function = debug_port, debug_function
        self.env_vars = dict(env_vars or {})
        self.lifecycle = lifecycle
        self.tls, self.tls_dir = tls, tls_dir
        self.ca: LocalCA | None = None
        self._ssl: Any = None  # the server's ssl.SSLContext when tls
        self.async_invoke = async_invoke
        self.schedule_scale = schedule_scale
        self._hooks: list[Any] = []
        self.model: WebSocketApp | None = None
        self.gateway: Gateway | None = None
        self.runtimes: Mapping[str, Any] = {}  # logical id → the function's pool (``.invocations``…)
        self.lambda_service: LambdaService | None = None
        self.invoke_api: InvokeApi | None = None
        self.backends: Backends | None = None
        self.lambda_port = 0
        self._lambda_sock: socket.socket | None = None
        self._lambda_runner: web.AppRunner | None = None
        self._pollers: EventSourcePollers | None = None
        self._disconnect_pushed: Callable[[], None] | None = None
        self._schedules: Schedules | None = None
        self._channel: SdkChannel | None = None
        self._dynamodb: EmbeddedServices | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.inspector_enabled, self.inspector_port, self.inspector_entries = (
            inspector,
            inspector_port,
            inspector_entries,
        )
        self.inspector: Inspector | None = None
        self._inspector_sock: socket.socket | None = None

    # -- addresses ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The WebSocket URL, ``ws://host:port/{stage}`` (``wss://`` with ``tls``)."""
        return f"{'wss' if self.tls else 'ws'}://{self._netloc}/{self._model.stage}"

    @property
    def management_endpoint(self) -> str:
        """The ``@connections`` endpoint to give boto3 as ``endpoint_url``: ``http://host:port/{stage}``
        (``https://`` with ``tls``)."""
        return f"{'https' if self.tls else 'http'}://{self._netloc}/{self._model.stage}"

    @property
    def inspector_url(self) -> str | None:
        """The inspector's page, ``http://127.0.0.1:{port}/_wsapp/``, when it is on (else None)."""
        if self.inspector is None:
            return None
        return f"http://{self._internal_host}:{self.inspector_port}/_wsapp/"

    @property
    def ca_bundle(self) -> str | None:
        """With ``tls``: the local CA's certificate (PEM) for clients to trust, else None."""
        return str(self.ca.cert_path) if self.ca is not None else None

    @property
    def lambda_endpoint(self) -> str:
        """The Lambda API (Invoke) endpoint, ``http://127.0.0.1:{port}``: what the functions' SDKs reach
        through ``AWS_ENDPOINT_URL_LAMBDA``, and what to give ``boto3.client("lambda", endpoint_url=…)``.
        A port of its own, as Lambda's endpoint is another host than API Gateway's."""
        self._model  # noqa: B018 - only while running
        return f"http://{self._internal_host}:{self.lambda_port}"

    @property
    def callback_urls(self) -> list[str]:
        """Every URL a function may build for this stage's ``@connections`` API, answered locally:
        the local endpoint, ``https://{domainName}/{stage}`` from the event (the documented pattern;
        ``localhost:{port}`` when the client connected by that name),
        ``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}``, and the custom domain if any."""
        stage = self._model.stage
        urls = [
            self.management_endpoint,
            f"https://{self._netloc}/{stage}",
            f"https://{self._model.api_id}.execute-api.{self.account.region}.amazonaws.com/{stage}",
        ]
        if self._internal_host == self.host:  # a loopback address: clients may name it localhost
            urls.append(f"https://localhost:{self.port}/{stage}")
        if self.domain_name:
            urls += [f"https://{self.domain_name}/{stage}", f"https://{self.domain_name}"]
        return list(dict.fromkeys(urls))

    @property
    def _tls_names(self) -> list[str]:
        """What the server certificate is valid for: loopback, the bind address, the API's host names."""
        names = [*LOOPBACK_NAMES, f"{self._model.api_id}.execute-api.{self.account.region}.amazonaws.com"]
        if self.domain_name:
            names.append(self.domain_name)
        if self.host not in ("0.0.0.0", "::", ""):
            names.append(self.host)
        return names

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def _internal_host(self) -> str:
        """Where the services behind the gateway listen: the gateway's address if it is a loopback one
        (so ``--host 127.0.0.2`` leaves 127.0.0.1 alone), else 127.0.0.1 — never a public address."""
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return "127.0.0.1"
        return self.host if address.is_loopback and address.version == 4 else "127.0.0.1"

    @property
    def _model(self) -> WebSocketApp:
        if self.model is None:
            raise EmulatorError("the gateway is not running")
        return self.model

    @property
    def logs(self) -> list[str]:
        """Function and gateway log lines so far (the most recent few thousand)."""
        return list(self.sink.lines)

    @property
    def log_lines(self) -> list[LogLine]:
        """``logs`` parsed: each line's function, Lambda request id, text and JSON record (if it is one)."""
        return self.sink.parsed()

    def reports(self, function: str | None = None) -> list[Report]:
        """The ``REPORT`` line of every invocation so far (of ``function``, a logical id, if given),
        oldest first: duration, memory, and ``init_ms`` on a cold start."""
        found = (Report.parse(line) for line in self.sink.parsed())
        return [r for r in found if r is not None and (function is None or r.function == function)]

    def wait_for_line(self, needle: str, timeout: float = 5.0) -> str:
        """Wait until a kept log line contains ``needle``; the first such line, as ``logs`` has it."""

        def first(lines: list[LogLine]) -> str | None:
            return next((line.raw for line in lines if needle in line.raw), None)

        try:
            return self.sink.wait_for(first, timeout)
        except TimeoutError:
            last = "\n".join(self.logs[-10:])
            message = f"no log line with {needle!r} within {timeout:g} s; last lines:\n{last}"
            raise TimeoutError(message) from None

    def wait_for_reports(
        self, count: int = 1, *, function: str | None = None, timeout: float = 5.0
    ) -> list[Report]:
        """Wait until ``count`` invocations (of ``function``, if given) have ended — their ``REPORT`` lines
        written — and return the first ``count`` of :meth:`reports`."""

        def enough(lines: list[LogLine]) -> list[Report] | None:
            found = [r for r in map(Report.parse, lines) if r is not None]
            found = [r for r in found if function is None or r.function == function]
            return found[:count] if len(found) >= count else None

        try:
            return self.sink.wait_for(enough, timeout)
        except TimeoutError:
            where = f" of {function}" if function else ""
            raise TimeoutError(f"{count} invocation(s){where} awaited for {timeout:g} s") from None

    def log_records(self, function: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """The functions' structured (JSON) log records so far, oldest first: those of ``function`` (a
        logical id) if given, whose ``fields`` have the given values (``route_key="$disconnect"``)."""
        return [dict(line.record) for line in self._records(self.sink.parsed(), function, fields)]

    def wait_for_records(
        self, count: int = 1, *, function: str | None = None, timeout: float = 5.0, **fields: Any
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` records like :meth:`log_records` picks have been logged; the first ``count``.

        For what happens after a reply has gone out (a ``$disconnect``, an async invocation): no polling
        loop, and a TimeoutError that says what was awaited.
        """

        def enough(lines: list[LogLine]) -> list[LogLine] | None:
            found = self._records(lines, function, fields)
            return found[:count] if len(found) >= count else None

        try:
            return [dict(line.record) for line in self.sink.wait_for(enough, timeout)]
        except TimeoutError:
            wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items()) or "any"
            where = f" of {function}" if function else ""
            have = len(self._records(self.sink.parsed(), function, fields))
            raise TimeoutError(
                f"{count} log record(s){where} with {wanted} awaited for {timeout:g} s; {have} logged"
            ) from None

    def request_log(self, request_id: str, timeout: float = 5.0) -> list[str]:
        """One invocation's lines (by its Lambda request id), without their prefix, from ``START`` to
        ``REPORT``: waits up to ``timeout`` seconds for the ``REPORT`` line that ends every invocation."""

        def complete(lines: list[LogLine]) -> list[str] | None:
            own = [line.text for line in lines if line.request_id == request_id]
            return own if own and own[-1].startswith("REPORT RequestId:") else None

        try:
            return self.sink.wait_for(complete, timeout)
        except TimeoutError:
            raise TimeoutError(f"no REPORT line of request {request_id} within {timeout:g} s") from None

    @staticmethod
    def _records(lines: list[LogLine], function: str | None, fields: Mapping[str, Any]) -> list[LogLine]:
        return [
            line
            for line in lines
            if line.record is not None
            and (function is None or line.function == function)
            and matches(line.record, fields)
        ]

    @property
    def dynamodb(self) -> EmbeddedServices | None:
        """The embedded AWS services (moto; ``.endpoint``; ``.down = True`` simulates an outage), if any."""
        return self._dynamodb

    @property
    def connection_ids(self) -> list[str]:
        return [c.connection_id for c in self.gateway.connections] if self.gateway else []

    def connection_id_for(self, client: tuple[Any, ...]) -> str | None:
        """The id of the connection whose client socket is at ``client`` (what the client's
        ``socket.getsockname()`` says), or None. Looked up on the gateway's loop, which owns the table."""

        async def find() -> str | None:
            assert self.gateway is not None
            for conn in self.gateway.connections:
                peer = conn.transport.get_extra_info("peername") if conn.transport is not None else None
                if peer is not None and tuple(peer[:2]) == tuple(client[:2]):
                    return conn.connection_id
            return None

        return self.run_coroutine(find(), timeout=5)

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> LocalGateway:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        memory.limit_malloc_arenas()
        self.model = load_app(
            self.template,
            self.parameters,
            account=self.account,
            api=self.api,
            ids=self.ids.api_id,
            dev_secret=self.dev_secret,
            isolated=self.isolated_translation,
        )
        if self.tls:
            self.ca = LocalCA.load_or_create(self.tls_dir)
            self._ssl = self.ca.server_context(self._tls_names)
        sock = self._bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._lambda_sock = self._bind(self._internal_host, 0)
        self.lambda_port = self._lambda_sock.getsockname()[1]
        # botocore and the AWS SDK for JavaScript v3 both read AWS_ENDPOINT_URL_<SERVICE ID> (here
        # "Lambda") before AWS_ENDPOINT_URL, so Lambda calls come here and never reach moto.
        wiring = {
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": self.management_endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_endpoint,
        }
        if self.ca is not None:
            # The functions trust the local CA: botocore (AWS_CA_BUNDLE), Python's ssl (SSL_CERT_FILE,
            # which replaces the default roots: the bundle has them too), Node.js (which adds these).
            trust = str(self.ca.trust_path)
            wiring |= {
                "AWS_CA_BUNDLE": trust,
                "SSL_CERT_FILE": trust,
                "NODE_EXTRA_CA_CERTS": str(self.ca.cert_path),
            }
        if self.use_dynamodb:
            # Every SDK call of the functions stays on this machine: AWS_ENDPOINT_URL for all services.
            self._dynamodb = EmbeddedServices(self._internal_host)
            endpoint = self._dynamodb.start()
            self._dynamodb.lambda_endpoint = self.lambda_endpoint
            wiring |= {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
            services = self._dynamodb
            create_all(self.model, lambda name: services.client(name, self.account.region))
        if self.credentials is not None:
            # The template's functions stand for roles allowed to manage connections: they sign their
            # @connections calls with the credentials callers are held to (else every reply is a 403).
            key, secret = self.credentials
            wiring |= {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": ""}
        self.lambda_service = LambdaService(
            self.model.functions,
            account=self.account,
            sink=self.sink,
            wiring=wiring,
            isolation=self.isolation,
            concurrency=self.concurrency,
            request_ids=self.ids.uuid,
            debugging=Debugging(self.debug, self.debug_port, self.debug_function),
            env_vars=self.env_vars,
            lifecycle=self.lifecycle,
            host=self._internal_host,
            dependencies=Dependencies(
                project_cache(self.template), install=self.install_dependencies, sink=self.sink
            ),
            prewarm=self.model.routed_functions,  # a worker only other functions invoke starts cold
        )
        self.runtimes = self.lambda_service.functions
        for line in self.model.not_run:
            self.sink.emit(f"warning: {line}\n")
        self.invoke_api = InvokeApi(
            self.lambda_service.functions,
            self.model.functions,
            account=self.account,
            sink=self.sink,
            request_ids=self.ids.uuid,
            settings=self.async_invoke,
        )
        self.backends = Backends(
            self.lambda_endpoint,
            self._dynamodb.endpoint if self._dynamodb is not None else None,
            credentials=self.credentials
            or (DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]),
        )
        sink = self.sink
        runtimes = self.runtimes
        if self.inspector_enabled:
            from wsapp.emulator.inspector.wiring import inspector_for

            self.inspector = inspector_for(self, self.inspector_entries)
            runtimes = self.inspector.record(self.runtimes)
            self._inspector_sock = self._bind(self._internal_host, self.inspector_port)
            self.inspector_port = self._inspector_sock.getsockname()[1]
        self.gateway = Gateway(
            self.model,
            runtimes,
            limits=self.limits,
            behaviour=self.behaviour,
            ids=self.ids,
            clock=self.clock,
            sink=self.sink,
            domain_name=self.domain_name,
            credentials=self.credentials,
            housekeeping=self._housekeeping,
            non_proxy=NonProxy(self.backends, lambda text: sink.emit(f"[gateway] {text}\n")),
        )
        self.gateway.port = self.port
        if self.inspector is not None:
            self.gateway.watch(self.inspector.recorder)
        self._serve_in_thread(sock)
        memory.release()  # what start-up freed: parsed SDK models, the template translation
        if self.inprocess_sdk and self.isolation == "thread":
            for url in self.callback_urls:
                self._hooks.append(sdk.install(self._manage_from_thread, endpoint=url))
            if self._dynamodb is not None:
                self._hooks.append(
                    sdk.install(
                        self._dynamodb.answer, endpoint=self._dynamodb.endpoint, event="before-send.dynamodb"
                    )
                )

    def _housekeeping(self) -> None:
        """Every few seconds: drop what a long run accumulates, hand freed memory back."""
        if self._dynamodb is not None:
            self._dynamodb.forget_tracked_models()
        memory.release(collect=False)  # bursts of handshakes and events leave freed memory behind

    @staticmethod
    def _bind(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise EmulatorError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        sock.listen(1024)
        sock.setblocking(False)
        return sock

    def _serve_in_thread(self, sock: socket.socket) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open(sock))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                loop.run_until_complete(self._close())
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=run, name="wsapp-gateway", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    async def _open(self, sock: socket.socket) -> None:
        assert self.gateway is not None and self.lambda_service is not None
        assert self.invoke_api is not None and self._lambda_sock is not None
        self._lambda_runner = web.AppRunner(
            self.invoke_api.web_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._lambda_runner.setup()
        await web.SockSite(self._lambda_runner, self._lambda_sock).start()
        route = None
        if self.inprocess_sdk and self.isolation == "process":
            # The functions' @connections and DynamoDB calls come back over a Unix socket, not TCP.
            self._channel = SdkChannel()
            for url in self.callback_urls:
                self._channel.add(url, self._manage_from_channel)
            if self._dynamodb is not None:
                self._channel.add(self._dynamodb.endpoint, self._dynamodb.answer_dynamodb, blocking=True)
            # With TLS the gateway's own address is listed too: the request is not changed, only carried
            # by the redirect's one keep-alive agent (no TLS handshake per client the code makes).
            https = [urlsplit(url).netloc for url in self.callback_urls if url.startswith("https:")]
            route = SdkRoute(
                await self._channel.start(),
                tuple(self._channel.endpoints),
                callback_hosts=tuple(dict.fromkeys(https)),
                callback_target=f"{self._internal_host}:{self.port}",
                callback_tls=self.tls,
            )
        await self.lambda_service.start(route)
        if self.model is not None and self.model.event_sources and self._dynamodb is not None:
            services = self._dynamodb
            region = self.account.region
            self._pollers = EventSourcePollers(
                self.model.event_sources,
                self.lambda_service.functions,
                lambda name: services.client(name, region),
                self.sink,
            )
            await self._pollers.start()
        if self.model is not None and self._dynamodb is not None:
            # SNS subscriptions and EventBridge targets naming the template's functions, and schedules.
            pushed = PushedEvents(self.invoke_api, asyncio.get_running_loop())
            self._disconnect_pushed = lambda_targets.connect(pushed.receive)
            self._schedules = Schedules(self.model.schedules, self.account, self.schedule_scale)
            self._schedules.start()
        self._runner = web.AppRunner(
            self.gateway.web_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock, ssl_context=self._ssl).start()
        if self.inspector is not None and self._inspector_sock is not None:
            await self.inspector.start(self._inspector_sock)

    async def _close(self) -> None:
        if self.inspector is not None:
            await self.inspector.close()
        if self.gateway is not None:
            await self.gateway.shutdown()  # every connection closed, its $disconnect delivered
        if self._pollers is not None:
            await self._pollers.stop()  # no new batches once the connections are gone
            self._pollers = None
        if self._schedules is not None:
            await self._schedules.stop()
            self._schedules = None
        if self._disconnect_pushed is not None:
            self._disconnect_pushed()
            self._disconnect_pushed = None
        if self.backends is not None:
            await self.backends.close()
        if self.invoke_api is not None:
            await self.invoke_api.close()  # queued Event invocations are dropped
        if self.lambda_service is not None:
            await self.lambda_service.stop()
        if self._channel is not None:
            await self._channel.stop()
            self._channel = None
        if self._runner is not None:
            await self._runner.cleanup()
        if self._lambda_runner is not None:
            await self._lambda_runner.cleanup()
            self._lambda_runner = None

    def _manage_from_channel(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        """A function's ``@connections`` call over the SDK channel, decided on the gateway's loop."""
        assert self.gateway is not None
        return self.gateway.api.manage_now(
            request.method,
            sdk.connection_id(request),
            sdk.body_of(request),
            signed=(request.url, request.headers),
            schedule=lambda work: work(),
        )

    def _manage_from_thread(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        """A function's SDK call, decided in the function's thread; the socket write goes to the loop."""
        assert self.gateway is not None and self._loop is not None
        loop = self._loop
        return self.gateway.api.manage_now(
            request.method,
            sdk.connection_id(request),
            sdk.body_of(request),
            signed=(request.url, request.headers),
            schedule=loop.call_soon_threadsafe,
        )

    def stop(self) -> None:
        while self._hooks:
            sdk.uninstall(self._hooks.pop())
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
        self._loop = self._thread = None
        if self._inspector_sock is not None:
            self._inspector_sock.close()
            self._inspector_sock = None
        if self._lambda_sock is not None:
            self._lambda_sock.close()  # already closed by its site if the loop ever served it
            self._lambda_sock = None
        self.invoke_api = None
        if self.lambda_service is not None:
            self.lambda_service.close_threads()
            self.lambda_service = None
        self.runtimes = {}
        if self._dynamodb is not None:
            self._dynamodb.stop()
            self._dynamodb = None

    def run_coroutine(self, coro: Any, timeout: float = 30) -> Any:
        """Run ``coro`` on the gateway's loop from any thread and return its result."""
        if self._loop is None:
            raise EmulatorError("the gateway is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalGateway:
        await asyncio.get_running_loop().run_in_executor(None, self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def __repr__(self) -> str:
        state = f"{self.url}" if self.model and self._loop else "stopped"
        return f"<LocalGateway {self.template.name} {state}>"


def project_cache(template: Path) -> Path:
    """``.wsapp`` beside the template: what the emulator builds for the project (dependencies...)."""
    return template.resolve().parent / ".wsapp"


def print_banner(gateway: LocalGateway, stream: IO[str] = sys.stdout) -> None:
    """The lines ``wsapp local`` prints on start: WebSocket URL, Management endpoint, with TLS the CA
    certificate clients must trust, then the Lambda endpoint and the inspector's page."""
    stream.write(f"WebSocket URL: {gateway.url}\nManagement endpoint: {gateway.management_endpoint}\n")
    if gateway.ca_bundle is not None:
        stream.write(f"CA certificate: {gateway.ca_bundle}\n")
    stream.write(f"Lambda endpoint: {gateway.lambda_endpoint}\n")
    if gateway.inspector_url is not None:
        stream.write(f"Inspector: {gateway.inspector_url}\n")
    stream.flush()
