"""The gateway itself: an aiohttp application serving the WebSocket stage and ``@connections``.

One port, like API Gateway's one domain: ``GET /{stage}`` upgrades to a WebSocket,
``POST|GET|DELETE /{stage}/@connections/{id}`` is the Management API.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web

from wsapp.emulator.apigateway import event_builders as events
from wsapp.emulator.apigateway import handshake as hs
from wsapp.emulator.apigateway import proxy
from wsapp.emulator.apigateway.config import Behaviour, Limits
from wsapp.emulator.apigateway.connections import Connection, Registry, State
from wsapp.emulator.apigateway.frames import GatewayWebSocket, encode_frame
from wsapp.emulator.apigateway.ids import Clock, Ids
from wsapp.emulator.apigateway.integrations.flow import NonProxy, Outcome
from wsapp.emulator.apigateway.management_api import ManagementApi
from wsapp.emulator.apigateway.observer import Observer
from wsapp.emulator.apigateway.routing import select_route
from wsapp.emulator.awslambda.invocation import Function, Invocation
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import RouteSpec, WebSocketApp

TOO_BIG = (1009, "Message too big")
BINARY = (1003, "Binary frames are not supported")
SHUTDOWN = (1001, "Going away")
NO_STATUS = (1005, "Client-side close frame status not set")  # [OBS powertools fixture]
ABNORMAL = (1006, "")  # TCP dropped without a close frame (UNCONFIRMED reason)
HOUSEKEEPING_EVERY = 5.0  # seconds between dropping what a long run accumulates and trimming memory


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """API Gateway's error frame, byte for byte (its spacing is inconsistent; reference §5)."""
    return f'{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}'


def _json_error(status: int, kind: str | None = None, message: str | None = None) -> web.Response:
    headers = {"x-amzn-ErrorType": kind} if kind else None
    body = "" if message is None else json.dumps({"message": message})
    return web.Response(status=status, text=body, headers=headers, content_type="application/json")


class _RateLimit:
    """Token bucket for new connections (API Gateway's per-account quota)."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.stamp = rate, rate, time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Gateway:
    def __init__(
        self,
        app: WebSocketApp,
        runtimes: Mapping[str, Function],
        *,
        limits: Limits,
        behaviour: Behaviour,
        ids: Ids,
        clock: Clock,
        sink: LogSink,
        domain_name: str | None = None,
        credentials: tuple[str, str] | None = None,
        housekeeping: Callable[[], None] | None = None,
        non_proxy: NonProxy | None = None,
    ) -> None:
        self.model = app
        self.non_proxy = non_proxy
        self.housekeeping = housekeeping
        self.runtimes = runtimes
        self.limits, self.behaviour = limits, behaviour
        self.ids, self.clock, self.sink = ids, clock, sink
        self.domain_name = domain_name
        self.credentials = credentials
        self.connections = Registry()
        self.api = ManagementApi(
            app.stage,
            self.connections,
            self,
            limits=limits,
            behaviour=behaviour,
            clock=clock,
            credentials=credentials,
        )
        self.stage = events.Stage(
            app.api_id, app.stage, app.account.region, app.account.account_id, app.stage_variables
        )
        self._rate = _RateLimit(limits.connect_rate)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.port = 0
        self.observer: Observer | None = None  # the inspector's recorder, when one watches

    def watch(self, observer: Observer | None) -> None:
        """Tell ``observer`` about handshakes, connections, frames and ``@connections`` calls."""
        self.observer = self.api.observer = observer

    # -- plumbing -----------------------------------------------------------------------------------
    def log(self, text: str) -> None:
        self.sink.emit(f"[gateway] {text}\n")

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def web_app(self) -> web.Application:
        application = web.Application(client_max_size=2 * self.limits.post_bytes + 1024)
        application.router.add_route("GET", "/{stage}", self.websocket)
        application.router.add_route("*", "/{stage}/{rest:.+}", self.api.management)
        application.on_startup.append(self._start_sweeper)
        return application

    async def _start_sweeper(self, _: web.Application) -> None:
        self._sweeper = asyncio.ensure_future(self._sweep())

    def _two_way(self, route: RouteSpec) -> bool:
        return route.two_way or (route.route_response_only and self.behaviour.route_response_suffices)

    def _runtime(self, route: RouteSpec) -> Function | None:
        return self.runtimes[route.function.logical_id] if route.function else None

    # -- the handshake ------------------------------------------------------------------------------
    def _refuse(
        self, request: web.Request, status: int, message: str, why: str, conn_id: str | None = None
    ) -> web.Response:
        if self.observer is not None:
            self.observer.refused(request, status, why, conn_id)
        return _json_error(status, message=message)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["stage"] != self.model.stage:
            return self._refuse(request, 403, "Forbidden", "no such stage")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return self._refuse(request, 426, "Upgrade Required", "not a WebSocket upgrade")
        if len(str(request.rel_url)) > self.limits.url_length:
            return self._refuse(request, 414, "Request-URI Too Long", "URL over the length limit")
        if not self._rate.take():
            return self._refuse(request, 429, "Too Many Requests", "over the connect rate")
        now = self.clock()
        conn = Connection(
            connection_id=self.ids(),
            connected_at=now,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            domain_name=self.domain_name or request.host,
        )
        self.connections.add(conn)
        try:
            verdict = await self._handshake(conn, request, now)
        except Exception as exc:  # the emulator's own failure must not become a hang or a traceback
            self.log(f"{conn.connection_id} handshake failed inside the emulator: {exc!r}")
            verdict = hs.Verdict(500)
        if verdict.status != 101:
            self.connections.remove(conn.connection_id)
            self.log(f"{conn.connection_id} handshake rejected {verdict.status}: {verdict.why}")
            message = hs.REASONS.get(verdict.status, "Rejected")
            return self._refuse(request, verdict.status, message, verdict.why, conn.connection_id)
        return await self._serve(conn, request, verdict)

    async def _handshake(self, conn: Connection, request: web.Request, now: int) -> hs.Verdict:
        route = self.model.routes.get("$connect")
        handshake = events.Handshake(
            headers=list(request.headers.items()),
            query=list(request.query.items()),
            trace_id=self.ids.trace_id(now),
            forwarded_port="443" if self.behaviour.forwarded_as_on_aws else str(self.port),
            forwarded_proto="https" if self.behaviour.forwarded_as_on_aws or request.secure else "http",
        )
        request_id = self.ids()
        authorizer: dict[str, Any] | None = None
        if route is not None and route.authorizer is not None:
            spec = route.authorizer
            if not hs.identity_present(
                spec.identity_sources, request.headers, request.query, self.model.stage_variables
            ):
                return hs.Verdict(401, "identity source missing; authorizer not invoked")
            event = events.authorizer_event(
                self.stage, conn, handshake, request_id=request_id, now_ms=self.clock()
            )
            verdict, latency = await hs.authorize(
                spec, self.runtimes[spec.function.logical_id], event, self.limits, self.behaviour
            )
            if verdict.status != 101:
                return verdict
            conn.authorizer = verdict.authorizer
            authorizer = {**(verdict.authorizer or {}), "integrationLatency": latency}
        if route is not None and route.integration is not None:
            event = events.connect_event(
                self.stage, conn, handshake, request_id=request_id, now_ms=self.clock(), authorizer=authorizer
            )
            outcome = await self._call_non_proxy(route, event)
            # UNCONFIRMED: a non-proxy $connect accepts on a 2xx backend status and an integration
            # response that maps it; anything else refuses the handshake with 500.
            if outcome.error is None and 200 <= outcome.status < 300:
                return hs.Verdict(101)
            return hs.Verdict(
                500, f"$connect {route.integration.kind} integration: {outcome.error or outcome.status}"
            )
        runtime = self._runtime(route) if route is not None else None
        if runtime is None:
            return hs.Verdict(101)  # no $connect integration: the connection is simply accepted
        event = events.connect_event(
            self.stage, conn, handshake, request_id=request_id, now_ms=self.clock(), authorizer=authorizer
        )
        return await hs.connect(runtime, event, self._integration_timeout(route), self.behaviour)

    async def _call_non_proxy(self, route: RouteSpec, event: dict[str, Any]) -> Outcome:
        if self.non_proxy is None:  # a gateway built without backends (unit tests of the server alone)
            return Outcome(500, error="Internal server error")
        try:
            return await self.non_proxy.run(
                route, event, self._integration_timeout(route), two_way=self._two_way(route)
            )
        except Exception as exc:  # the emulator's own failure: the client sees what AWS would show
            request_id = event["requestContext"]["requestId"]
            self.log(f"{request_id} integration failed inside the emulator: {exc!r}")
            return Outcome(500, error="Internal server error")

    def _integration_timeout(self, route: RouteSpec) -> float:
        return self.limits.integration_timeout or route.integration_timeout

    # -- an open connection -------------------------------------------------------------------------
    async def _serve(self, conn: Connection, request: web.Request, verdict: hs.Verdict) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        ws = GatewayWebSocket(
            protocol=verdict.protocol,
            frame_limit=self.limits.frame_bytes,
            on_oversize_frame=lambda: self._spawn(self.close(conn, *TOO_BIG)),
            max_msg_size=self.limits.message_bytes + 1,  # aiohttp rejects sizes >= its limit
            autoping=self.behaviour.pong_on_ping,
            timeout=2.0,  # how long a close handshake may take
        )
        conn.ws, conn.opened, conn.transport = ws, loop.create_future(), request.transport
        conn.opened_monotonic = conn.last_active_monotonic = time.monotonic()
        conn.last_active_at = self.clock()
        # Postable from the moment the 101 is written (410 before) [DOC re:Post]; a client in this very
        # process may read the 101 and post before this coroutine resumes, so open it first.
        conn.state = State.OPEN
        try:
            await ws.prepare(request)
        except BaseException as exc:  # whatever failed, the connection never opened: forget it
            conn.state = State.CLOSED
            conn.opened.cancel()
            self.connections.remove(conn.connection_id)
            if isinstance(exc, (ConnectionResetError, RuntimeError)):
                return ws  # the client went away during the 101
            raise
        conn.opened.set_result(None)
        if self.observer is not None:
            self.observer.opened(conn, verdict.protocol)
        order = asyncio.Lock() if self.behaviour.serialize_per_connection else None
        client_close: tuple[int, str] | None = None
        try:
            while True:
                msg = await ws.receive()
                if msg.type is WSMsgType.TEXT:
                    conn.last_active_monotonic = time.monotonic()
                    conn.last_active_at = self.clock()
                    if self.observer is not None:
                        self.observer.frame_in(conn, msg.data)
                    if order is None:
                        self._on_message(conn, msg.data)
                    else:
                        self._spawn(self._on_message_in_order(conn, msg.data, order))
                elif msg.type is WSMsgType.BINARY:
                    if self.observer is not None:
                        self.observer.frame_in(conn, msg.data)
                    await self.close(conn, *BINARY)
                    break
                elif msg.type is WSMsgType.CLOSE:
                    code = int(msg.data or 0)
                    client_close = (
                        NO_STATUS if code in (0, 1005) else (code, "" if code == 1001 else msg.extra or "")
                    )
                    break
                else:  # CLOSING, CLOSED, ERROR
                    if (
                        msg.type is WSMsgType.ERROR
                        and ws.close_code == TOO_BIG[0]
                        and conn.close_code is None
                    ):
                        conn.close_code, conn.close_reason = TOO_BIG
                    break
        finally:
            conn.state = State.CLOSED
            self.connections.remove(conn.connection_id)
            if not ws.closed:
                await ws.close()
            if conn.close_code is not None:
                status, by = (conn.close_code, conn.close_reason), "gateway"
            else:
                status, by = client_close or ABNORMAL, "client" if client_close else "network"
            if self.observer is not None:
                self.observer.closed(conn, *status, by)
            self._spawn(self._on_disconnect(conn, status))
        return ws

    async def close(self, conn: Connection, code: int, reason: str) -> None:
        """Close from the gateway's side (DELETE, limits, shutdown); ``$disconnect`` follows."""
        if conn.close_code is None:
            conn.close_code, conn.close_reason = code, reason
        conn.state = State.CLOSED  # from now on @connections answers 410
        if conn.ws is not None and not conn.ws.closed:
            await conn.ws.close(code=code, message=b"" if code == 1000 else reason.encode())

    def close_soon(self, conn: Connection, code: int, reason: str) -> None:
        self._spawn(self.close(conn, code, reason))

    def send_now(self, conn: Connection, data: str | bytes) -> bool:
        """Write one frame now, on the loop: no task per frame on the hot path.

        The frame is written straight to the transport, as aiohttp's writer would write it (a server
        frame is unmasked; compression is never negotiated). Frames accepted while the 101 is still
        being written wait for it in a task.
        """
        ws, transport = conn.ws, conn.transport
        if ws is None or transport is None or ws.closed or conn.state is not State.OPEN:
            return False
        if conn.opened is None or not conn.opened.done():
            self._spawn(self.send(conn, data))
            return True
        if conn.opened.cancelled() or transport.is_closing():
            return False
        transport.write(encode_frame(data))
        conn.last_active_monotonic = time.monotonic()
        conn.last_active_at = self.clock()
        if self.observer is not None:
            self.observer.frame_out(conn, data)
        return True

    async def send(self, conn: Connection, data: str | bytes) -> bool:
        if conn.opened is not None and not conn.opened.done():
            try:
                await conn.opened
            except asyncio.CancelledError:
                return False
        return self.send_now(conn, data)

    def _on_message(self, conn: Connection, body: str) -> None:
        """Route and invoke now; the outcome is handled by a callback (no task per message)."""
        started = self._dispatch(conn, body)
        if started is not None:
            route, request_id, future = started
            future.add_done_callback(lambda f: self._deliver(conn, route, request_id, f.result()))

    async def _on_message_in_order(self, conn: Connection, body: str, order: asyncio.Lock) -> None:
        async with order:
            started = self._dispatch(conn, body)
            if started is not None:
                route, request_id, future = started
                self._deliver(conn, route, request_id, await future)

    def _dispatch(
        self, conn: Connection, body: str
    ) -> tuple[RouteSpec, str, asyncio.Future[Invocation] | asyncio.Future[Outcome]] | None:
        request_id, message_id = self.ids(), self.ids()
        key = select_route(self.model.selection_expression, body, self.model.routes)
        if key is None:  # no match and no $default [OBS]
            self.send_now(conn, error_frame("Forbidden", conn.connection_id, request_id))
            return None
        route = self.model.routes[key]
        runtime = self._runtime(route)
        if runtime is None and route.integration is None:
            self.send_now(conn, error_frame("Internal server error", conn.connection_id, request_id))
            return None
        event = events.message_event(
            self.stage,
            conn,
            route_key=key,
            body=body,
            request_id=request_id,
            message_id=message_id,
            now_ms=self.clock(),
        )
        if runtime is None:
            return route, request_id, self._spawn(self._call_non_proxy(route, event))
        return route, request_id, runtime.submit(event, wait=self._integration_timeout(route))

    def _deliver(
        self, conn: Connection, route: RouteSpec, request_id: str, result: Invocation | Outcome
    ) -> None:
        if isinstance(result, Outcome):
            if result.error is not None:
                self.send_now(conn, error_frame(result.error, conn.connection_id, request_id))
            elif self._two_way(route) and result.payload is not None:
                self.send_now(conn, result.payload)
            return
        if result.gave_up:
            self.send_now(conn, error_frame("Endpoint request timed out", conn.connection_id, request_id))
            return
        if not result.ok:
            self.send_now(conn, error_frame("Internal server error", conn.connection_id, request_id))
            return
        issue = proxy.problem(result.value)
        if issue is not None:
            self.log(
                f"{request_id} Execution failed due to configuration error: "
                f"Malformed Lambda proxy response ({issue})"
            )
            self.send_now(conn, error_frame("Internal server error", conn.connection_id, request_id))
            return
        if self._two_way(route):  # statusCode is ignored; body (or an empty frame) goes back [OBS]
            payload: str | bytes = result.value.get("body") or ""
            if result.value.get("isBase64Encoded") and payload:
                payload = base64.b64decode(payload)
            self.send_now(conn, payload)

    async def _on_disconnect(self, conn: Connection, status: tuple[int, str]) -> None:
        """``$disconnect`` runs after the socket is gone; best effort, its result ignored [DOC]."""
        route = self.model.routes.get("$disconnect")
        runtime = self._runtime(route) if route is not None else None
        if route is None or (runtime is None and route.integration is None):
            return
        event = events.disconnect_event(
            self.stage, conn, status=status[0], reason=status[1], request_id=self.ids(), now_ms=self.clock()
        )
        if runtime is None:
            outcome = await self._call_non_proxy(route, event)
            if outcome.error is not None:
                self.log(f"{conn.connection_id} $disconnect integration failed: {outcome.error}")
            return
        result = await runtime.submit(event, wait=self._integration_timeout(route))
        if result.gave_up:
            self.log(f"{conn.connection_id} $disconnect timed out")

    async def _sweep(self) -> None:
        """Close idle connections and those past the maximum duration."""
        limits = self.limits
        interval = max(0.05, min(1.0, limits.idle_timeout / 10, limits.max_duration / 10))
        trimmed = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            if now - trimmed >= HOUSEKEEPING_EVERY:
                trimmed = now
                if self.housekeeping is not None:
                    self.housekeeping()
            for conn in self.connections:
                if conn.state is not State.OPEN:
                    continue
                if now - conn.opened_monotonic >= limits.max_duration:
                    self._spawn(self.close(conn, *limits.duration_close))
                elif now - conn.last_active_monotonic >= limits.idle_timeout:
                    self._spawn(self.close(conn, *limits.idle_close))

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Close every connection (each gets ``$disconnect``), then wait for what is in flight."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        await asyncio.gather(*(self.close(c, *SHUTDOWN) for c in self.connections), return_exceptions=True)
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - time.monotonic()))
