"""The recorder: a bounded ring of what the gateway did, and a table of its connections.

Recording is an append of a small dict (no formatting, no masking, no JSON): those happen when an
entry is served (:meth:`Recorder.public`), once per entry. Calls may come from function threads
(thread isolation's in-process ``@connections`` calls); appends take a lock, wake-ups go to the loop.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from wsapp.emulator.inspector.masking import Masker

if TYPE_CHECKING:
    from aiohttp import web

    from wsapp.emulator.apigateway.connections import Connection
    from wsapp.emulator.awslambda.invocation import Invocation

NORMAL_CLOSES = frozenset({1000, 1001, 1005})  # closes that are not errors (1005: no status given)
BULKY = frozenset({"event", "response", "logs"})  # left out of the live stream (see Recorder.brief)
GATEWAY_ERROR = '{"message": "'  # how API Gateway's error frames start (server.error_frame)
MASKED_KEPT = 10_000  # masked row strings remembered (then forgotten all at once)


@dataclass(slots=True)
class ConnectionRecord:
    connection_id: str
    source_ip: str
    connected_at: float  # epoch ms
    principal: str | None = None
    user_agent: str | None = None
    protocol: str | None = None
    last_active_at: float = 0.0
    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    state: str = "open"
    close_code: int | None = None
    close_reason: str | None = None
    closed_by: str | None = None  # client, gateway, network


ROW_FIELDS = tuple(f.name for f in fields(ConnectionRecord))


def _now_ms() -> float:
    return time.time() * 1000


class Recorder:
    """Implements the gateway's ``Observer``; keeps the last ``entries`` entries and ``closed`` closed
    connections (open ones are all kept). ``max_payload``: frames longer than this are cut when recorded."""

    def __init__(
        self,
        *,
        entries: int = 2000,
        closed: int = 200,
        max_payload: int = 32 * 1024,
        masker: Masker | None = None,
    ) -> None:
        self.entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=entries)
        self.connections: dict[str, ConnectionRecord] = {}
        self.keep_closed = closed
        self.max_payload = max_payload
        self.masker = masker or Masker()
        self._closed: collections.deque[str] = collections.deque()
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._deliveries: dict[str, tuple[str, bool]] = {}  # request id → (environment, cold)
        self._listeners: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._masked: dict[str, str] = {}  # a connection row's string → as shown (see _row)

    # -- appending ----------------------------------------------------------------------------------
    def add(self, kind: str, at: float | None = None, **fields: Any) -> dict[str, Any]:
        """Append an entry of ``kind`` (``at``: epoch ms, now unless given)."""
        fields["kind"], fields["at"] = kind, _now_ms() if at is None else at
        with self._lock:
            fields["seq"] = next(self._seq)
            self.entries.append(fields)
        if self._listeners:
            self._wake()
        return fields

    def _payload(self, data: str | bytes) -> tuple[str | None, int, bool]:
        """(text to keep, size in bytes, binary?)."""
        if isinstance(data, bytes):
            return None, len(data), True
        size = len(data)  # characters; exact bytes would cost an encode per frame
        return (data if size <= self.max_payload else data[: self.max_payload]), size, False

    # -- the gateway's Observer -----------------------------------------------------------------------
    def refused(self, request: web.Request, status: int, why: str, connection_id: str | None) -> None:
        self.add(
            "handshake",
            status=status,
            why=why,
            connectionId=connection_id,
            path=request.path_qs,
            sourceIp=request.remote,
            protocols=request.headers.get("Sec-WebSocket-Protocol"),
            error=True,
        )

    def opened(self, conn: Connection, protocol: str | None) -> None:
        principal = (conn.authorizer or {}).get("principalId")
        now = _now_ms()
        self.connections[conn.connection_id] = ConnectionRecord(
            conn.connection_id, conn.source_ip, conn.connected_at, principal, conn.user_agent, protocol, now
        )
        self.add("open", status=101, connectionId=conn.connection_id, principal=principal, protocol=protocol)

    def closed(self, conn: Connection, code: int, reason: str, by: str) -> None:
        record = self.connections.get(conn.connection_id)
        if record is not None:
            record.state, record.close_code, record.close_reason, record.closed_by = (
                "closed",
                code,
                reason,
                by,
            )
            self._closed.append(conn.connection_id)
            while len(self._closed) > self.keep_closed:
                self.connections.pop(self._closed.popleft(), None)
        error = code not in NORMAL_CLOSES
        self.add("close", connectionId=conn.connection_id, code=code, reason=reason, by=by, error=error)

    def frame_in(self, conn: Connection, data: str | bytes) -> None:
        text, size, binary = self._payload(data)
        now = _now_ms()
        record = self.connections.get(conn.connection_id)
        if record is not None:
            record.frames_in += 1
            record.bytes_in += size
            record.last_active_at = now
        self.add("in", now, connectionId=conn.connection_id, data=text, size=size, binary=binary)

    def frame_out(self, conn: Connection, data: str | bytes) -> None:
        text, size, binary = self._payload(data)
        now = _now_ms()
        record = self.connections.get(conn.connection_id)
        if record is not None:
            record.frames_out += 1
            record.bytes_out += size
            record.last_active_at = now
        error = text is not None and text.startswith(GATEWAY_ERROR) and '"requestId":' in text
        self.add(
            "out", now, connectionId=conn.connection_id, data=text, size=size, binary=binary, error=error
        )

    def post(self, method: str, connection_id: str, status: int, size: int) -> None:
        self.add(
            "post", method=method, connectionId=connection_id, status=status, size=size, error=status >= 400
        )

    # -- invocations ----------------------------------------------------------------------------------
    def delivered(self, request_id: str, environment: str, cold: bool) -> None:
        """From the function's pool (any thread): which environment took the request, and if cold."""
        self._deliveries[request_id] = (environment, cold)

    def invocation(
        self,
        function: str,
        event: Any,
        result: Invocation,
        *,
        started: float,
        logs: list[str],
        replay_of: int | None = None,
        kept: Any = None,
    ) -> dict[str, Any]:
        """Record an invocation of ``event``; ``kept`` is what the entry keeps of it (default the event
        itself; its JSON bytes, decoded when served, keep the ring out of the garbage collector's way)."""
        environment, cold = self._deliveries.pop(result.request_id, (None, None))
        if isinstance(event, bytes):
            event = _decoded(event)  # a replayed entry's bytes, or an Invoke API payload
        context = event.get("requestContext") or {} if _mapping(event) else {}
        response = result.value if result.ok else _error_of(result)
        status = response.get("statusCode") if _mapping(response) else None
        return self.add(
            "invoke",
            function=function,
            requestId=result.request_id,
            route=context.get("routeKey") or ("authorizer" if _type(event) == "REQUEST" else None),
            eventType=context.get("eventType") or _type(event),
            connectionId=context.get("connectionId"),
            event=event if kept is None else kept,
            response=response,
            ok=result.ok and not result.gave_up,
            status=status,
            durationMs=round(result.duration_ms or (_now_ms() - started), 2),
            cold=cold,
            environment=environment,
            logs=logs,
            replayOf=replay_of,
            error=not result.ok or result.gave_up or (isinstance(status, int) and status >= 500),
        )

    # -- serving --------------------------------------------------------------------------------------
    def since(self, seq: int) -> list[dict[str, Any]]:
        with self._lock:  # from the newest back to the first one already seen, not the whole ring
            newer = list(itertools.takewhile(lambda e: e["seq"] > seq, reversed(self.entries)))
        newer.reverse()
        return newer

    def find(self, seq: int) -> dict[str, Any] | None:
        with self._lock:
            return next((e for e in self.entries if e["seq"] == seq), None)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self.entries[-1]["seq"] if self.entries else 0

    def public(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry as the page sees it: masked (event, response, logs, frames). Cached in the entry."""
        cached = entry.get("_public")
        if cached is None:
            shown = {k: v for k, v in entry.items() if k[0] != "_"}
            if "event" in shown:
                shown["event"] = self.event_of(entry)
            cached = entry["_public"] = self.masker.value(shown)
        return cached

    @staticmethod
    def event_of(entry: Mapping[str, Any]) -> Any:
        """A recorded invocation's event, as the function got it: a fresh copy each time (a replay's)."""
        event = entry["event"]
        if isinstance(event, bytes):
            return _decoded(event)
        return dict(event) if _mapping(event) else event

    def brief(self, entry: dict[str, Any]) -> dict[str, Any]:
        """What the timeline shows of an entry, without the bulky parts (event, response, logs), which
        the page fetches when the entry is clicked: the live stream stays small under load."""
        cached = entry.get("_brief")
        if cached is None:
            cached = entry["_brief"] = self.masker.value(
                {k: v for k, v in entry.items() if k[0] != "_" and k not in BULKY}
            )
            if "event" in entry:
                cached["response"] = _outcome(entry.get("response"))
        return cached

    def connection_rows(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Every connection kept, or those of ``ids`` (in that order): masked, as the page shows them."""
        if ids is None:
            rows = list(self.connections.values())
        else:
            rows = [r for r in map(self.connections.get, ids) if r is not None]
        return [self._row(r) for r in rows]

    def _row(self, record: ConnectionRecord) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in ROW_FIELDS}  # flat: asdict's deep copy costs 10×
        masked = self._masked
        for name, value in row.items():
            if type(value) is str:
                # A row's strings (id, address, principal, user agent) are the same batch after batch
                # while its counters move: each is masked once, not once per row served.
                shown = masked.get(value)
                if shown is None:
                    if len(masked) >= MASKED_KEPT:
                        masked.clear()
                    shown = masked[value] = self.masker.text(value)
                row[name] = shown
        return row

    # -- live listeners -------------------------------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop listeners wait on (the gateway's): wake-ups from other threads are handed to it."""
        self._loop, self._loop_thread = loop, threading.get_ident()

    def listen(self) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.add(event)
        return event

    def unlisten(self, event: asyncio.Event) -> None:
        self._listeners.discard(event)

    def _wake(self) -> None:
        if threading.get_ident() != self._loop_thread:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._wake_here)
            return
        self._wake_here()

    def _wake_here(self) -> None:
        for event in list(self._listeners):
            event.set()


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")  # an Invoke API payload need not be JSON


def _mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # a dict spared the ABC's check


def _type(event: Any) -> Any:
    return event.get("type") if _mapping(event) else None


def _outcome(response: Any) -> Any:
    """The part of a response the timeline's summary names: its error type, if any."""
    return {"errorType": response.get("errorType")} if _mapping(response) else None


def _error_of(result: Invocation) -> dict[str, Any]:
    if result.gave_up:
        return {"errorType": "IntegrationTimeout", "errorMessage": "the gateway stopped waiting"}
    if result.throttled:
        return {"errorType": "TooManyRequestsException", "errorMessage": result.error_message}
    return {"errorType": result.error_type, "errorMessage": result.error_message}
