"""An asyncio load generator for the WebSocket API: many authorized clients playing marco/polo.

Each of ``clients`` connections offers ``wsapp.v1`` and a token as subprotocols (as a browser must),
then, once every client is connected, sends ``{"action":"marco"}`` and waits for the ``polo`` that
answers it, round after round, until ``duration`` seconds have passed (or ``max_round_trips`` per
client). One request is in flight per client, so the next ``polo`` a client sees is its answer.
With ``correlate=True`` every message carries an ``id`` (``{"action":"marco","id":7}``), replies are
paired with requests by the ``id`` they echo, and ``pipeline`` requests may be in flight per client:
the report then counts duplicated, out-of-order and unmatched replies, and what was lost.

The run is bounded in count and in time: at most :data:`MAX_CLIENTS` clients and
:data:`MAX_DURATION` seconds, every wait has a timeout, and the whole run ends within about
``connect_timeout + duration + reply_timeout`` seconds whatever the server does.

Works against the local gateway (``LocalGateway(...).url``) and a deployed stage alike::

    report = await run_load(gw.url, clients=20, duration=2.0)   # in a notebook or async code
    report = run(gw.url, clients=20, duration=2.0)              # from a script

:class:`Clients` keeps the connections open across several runs (a benchmark taking turns).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from wsapp.auth import LOCAL_DEV_SECRET, issue_token

APP_PROTOCOL = "wsapp.v1"
MARCO = '{"action":"marco"}'
MAX_CLIENTS = 1000
MAX_DURATION = 600.0

TokenFor = Callable[[int], str]  # client index → token


@dataclass(frozen=True)
class RoundTrip:
    """One answered message: which client, when it was sent (seconds into the run), how long it took."""

    client: int
    sent_at: float
    latency: float

    @property
    def answered_at(self) -> float:
        return self.sent_at + self.latency


@dataclass(frozen=True)
class LoadReport:
    clients: int  # clients asked for
    connected: int  # clients whose handshake succeeded
    duration: float  # seconds from the common start to the last client's finish
    sent: int  # messages sent
    round_trips: tuple[RoundTrip, ...] = field(repr=False)  # answered messages, in answer order
    errors: tuple[str, ...] = ()  # one line per failure (handshake, timeout, unexpected close ...)
    # With ``correlate=True`` only (replies paired with requests by id):
    duplicates: int = 0  # replies for a request already answered
    out_of_order: int = 0  # replies that overtook the reply to an earlier request of the same client
    unmatched: int = 0  # replies carrying an id that was never sent

    @property
    def answered(self) -> int:
        return len(self.round_trips)

    @property
    def lost(self) -> int:
        """Messages sent and never answered."""
        return self.sent - self.answered

    @property
    def every_message_answered(self) -> bool:
        return self.sent > 0 and self.answered == self.sent

    @property
    def latencies(self) -> list[float]:
        """Round-trip times in seconds, in answer order."""
        return [rt.latency for rt in self.round_trips]

    @property
    def throughput(self) -> float:
        """Answered messages per second over the whole run."""
        return self.answered / self.duration if self.duration > 0 else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100, nearest rank) of the latencies, in seconds; nan if none."""
        if not 0 <= q <= 100:
            raise ValueError("q must be between 0 and 100")
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    def throughput_series(self, bin_seconds: float = 0.1) -> tuple[list[float], list[float]]:
        """Answers per second in consecutive bins: (bin start times, rates), covering the run."""
        if bin_seconds <= 0:
            raise ValueError("bin_seconds must be positive")
        bins = max(1, math.ceil(self.duration / bin_seconds))
        counts = [0] * bins
        for rt in self.round_trips:
            counts[min(bins - 1, max(0, int(rt.answered_at / bin_seconds)))] += 1
        return [i * bin_seconds for i in range(bins)], [c / bin_seconds for c in counts]

    def error_counts(self) -> dict[str, int]:
        """How many times each error line occurred, most frequent first."""
        return dict(Counter(self.errors).most_common())

    def summary(self) -> dict[str, object]:
        """The facts that hold run to run (no timings): for printing where output must be stable."""
        return {
            "clients": self.clients,
            "connected": self.connected,
            "every message answered": self.every_message_answered,
            "errors": len(self.errors),
        }


class _Client:
    """One connection's share of the run; records into lists shared by all clients."""

    def __init__(self, index: int, trips: list[RoundTrip], errors: list[str]) -> None:
        self.index, self.trips, self.errors = index, trips, errors
        self.sent = 0
        self.duplicates = self.out_of_order = self.unmatched = 0

    async def play(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        start: float,
        deadline: float,
        max_round_trips: int | None,
        message: str,
        expect: str,
        reply_timeout: float,
    ) -> None:
        while time.perf_counter() < deadline and (max_round_trips is None or self.sent < max_round_trips):
            sent_at = time.perf_counter()
            await ws.send_str(message)
            self.sent += 1
            problem = await self._await_reply(ws, expect, reply_timeout)
            if problem is not None:
                self.errors.append(problem)
                return
            now = time.perf_counter()
            self.trips.append(RoundTrip(self.index, sent_at - start, now - sent_at))

    async def play_correlated(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        start: float,
        deadline: float,
        max_round_trips: int | None,
        message: str,
        expect: str,
        reply_timeout: float,
        pipeline: int,
    ) -> None:
        """Keep up to ``pipeline`` id-tagged requests in flight; pair each reply with its request."""
        template = json.loads(message)
        outstanding: dict[int, float] = {}  # id → when it was sent (ids ascend: the first is oldest)
        next_id = 0
        while True:
            while (
                len(outstanding) < pipeline
                and time.perf_counter() < deadline
                and (max_round_trips is None or next_id < max_round_trips)
            ):
                outstanding[next_id] = time.perf_counter()
                await ws.send_str(json.dumps({**template, "id": next_id}, separators=(",", ":")))
                next_id += 1
                self.sent += 1
            if not outstanding:
                return
            reply = await self._await_reply(ws, expect, reply_timeout, with_value=True)
            if isinstance(reply, str):
                self.errors.append(reply)
                return
            ident = reply.get("id")
            if not isinstance(ident, int) or isinstance(ident, bool) or not 0 <= ident < next_id:
                self.unmatched += 1
                continue
            sent_at = outstanding.pop(ident, None)
            if sent_at is None:
                self.duplicates += 1
                continue
            if outstanding and next(iter(outstanding)) < ident:
                self.out_of_order += 1
            now = time.perf_counter()
            self.trips.append(RoundTrip(self.index, sent_at - start, now - sent_at))

    @staticmethod
    async def _await_reply(
        ws: aiohttp.ClientWebSocketResponse, expect: str, timeout: float, *, with_value: bool = False
    ) -> Any:
        """Once a frame with ``"action": expect`` arrives: None (or the frame's JSON object, with
        ``with_value``); else why not, as one line."""
        give_up = time.perf_counter() + timeout
        while (left := give_up - time.perf_counter()) > 0:
            try:
                msg = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if msg.type is aiohttp.WSMsgType.TEXT:
                value = _object_of(msg.data)
                if value is not None and value.get("action") == expect:
                    return value if with_value else None
                continue  # another frame (a broadcast, an error frame): keep waiting
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return f"closed by the server: {ws.close_code}"
            if msg.type is aiohttp.WSMsgType.ERROR:
                return f"connection error: {_one_line(msg.data)}"
        return f"no {expect} within {timeout:g} s"


def _object_of(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _one_line(exc: object) -> str:
    if isinstance(exc, BaseException):
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        text = str(exc)
    return text.splitlines()[0] if text else "unknown"


def _check(
    clients: int,
    duration: float,
    max_round_trips: int | None,
    timeouts: Sequence[float],
    pipeline: int = 1,
    correlate: bool = False,
    message: str = MARCO,
) -> None:
    if pipeline < 1:
        raise ValueError("pipeline must be at least 1")
    if pipeline > 1 and not correlate:
        raise ValueError("pipeline > 1 needs correlate=True (replies are paired by id)")
    if correlate and not isinstance(_object_of(message), dict):
        raise ValueError("with correlate=True the message must be a JSON object")
    if not 1 <= clients <= MAX_CLIENTS:
        raise ValueError(f"clients must be between 1 and {MAX_CLIENTS}")
    if not 0 < duration <= MAX_DURATION:
        raise ValueError(f"duration must be more than 0 and at most {MAX_DURATION:g} s")
    if max_round_trips is not None and max_round_trips < 1:
        raise ValueError("max_round_trips must be at least 1")
    if any(not 0 < t <= MAX_DURATION for t in timeouts):
        raise ValueError("timeouts must be positive")


class Clients:
    """``clients`` authorized connections, opened once and played in as many runs as asked.

    A benchmark that takes turns between servers keeps each server's connections across its turns
    instead of paying (and timing around) a fresh round of handshakes every turn::

        async with Clients(url, clients=10) as fleet:
            first = await fleet.play(1.0)
            later = await fleet.play(1.0)

    Handshake failures are lines in the first report's ``errors``; a client that fails during a run
    (times out, is closed) is dropped from the runs after it.
    """

    def __init__(
        self,
        url: str,
        *,
        clients: int = 20,
        token_for: TokenFor | None = None,
        secret: str = LOCAL_DEV_SECRET,
        connect_timeout: float = 10.0,
    ) -> None:
        _check(clients, 1.0, None, (connect_timeout,))
        self.url, self.clients, self.connect_timeout = url, clients, connect_timeout
        self._tokens = token_for or (lambda i: issue_token(f"load-{i:04d}", secret=secret))
        self._open: dict[int, aiohttp.ClientWebSocketResponse] = {}  # client index → its connection
        self._errors: list[str] = []  # handshake failures, reported by the first run
        self._session: aiohttp.ClientSession | None = None

    @property
    def connected(self) -> int:
        """Connections open now."""
        return len(self._open)

    async def __aenter__(self) -> Clients:
        connector = aiohttp.TCPConnector(limit=0)  # a WebSocket holds its connection while open
        self._session = aiohttp.ClientSession(connector=connector)
        opened = await asyncio.gather(*(self._connect(i) for i in range(self.clients)))
        self._open = {i: ws for i, ws in enumerate(opened) if ws is not None}
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(ws.close() for ws in self._open.values()), return_exceptions=True)
        self._open = {}
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _connect(self, i: int) -> aiohttp.ClientWebSocketResponse | None:
        assert self._session is not None
        try:
            return await asyncio.wait_for(
                self._session.ws_connect(
                    self.url,
                    protocols=(APP_PROTOCOL, self._tokens(i)),
                    timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                    autoping=True,
                    heartbeat=None,
                ),
                self.connect_timeout,
            )
        except TimeoutError:
            self._errors.append(f"cannot connect: no handshake within {self.connect_timeout:g} s")
        except aiohttp.WSServerHandshakeError as exc:
            self._errors.append(f"handshake rejected: HTTP {exc.status}")
        except (aiohttp.ClientError, OSError) as exc:
            self._errors.append(f"cannot connect: {_one_line(exc)}")
        return None

    async def play(
        self,
        duration: float = 2.0,
        *,
        max_round_trips: int | None = None,
        message: str = MARCO,
        expect: str = "polo",
        reply_timeout: float = 5.0,
        correlate: bool = False,
        pipeline: int = 1,
    ) -> LoadReport:
        """Every open connection plays marco/polo for ``duration`` seconds (see :func:`run_load`)."""
        _check(self.clients, duration, max_round_trips, (reply_timeout,), pipeline, correlate, message)
        errors, self._errors = self._errors, []
        trips: list[RoundTrip] = []
        players = [_Client(i, trips, errors) for i in self._open]
        start = time.perf_counter()
        options: dict[str, Any] = dict(
            start=start,
            deadline=start + duration,
            max_round_trips=max_round_trips,
            message=message,
            expect=expect,
            reply_timeout=reply_timeout,
        )

        async def client(player: _Client) -> None:
            ws = self._open[player.index]
            failed = len(errors)
            try:
                if correlate:
                    await player.play_correlated(ws, pipeline=pipeline, **options)
                else:
                    await player.play(ws, **options)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                errors.append(f"connection error: {_one_line(exc)}")
            if len(errors) > failed or ws.closed:  # this client is done for: later runs go without it
                del self._open[player.index]
                await ws.close()

        await asyncio.gather(*(client(p) for p in players))
        end = time.perf_counter()
        return LoadReport(
            clients=self.clients,
            connected=len(players),
            duration=end - start,
            sent=sum(p.sent for p in players),
            round_trips=tuple(sorted(trips, key=lambda rt: rt.answered_at)),
            errors=tuple(errors),
            duplicates=sum(p.duplicates for p in players),
            out_of_order=sum(p.out_of_order for p in players),
            unmatched=sum(p.unmatched for p in players),
        )


async def run_load(
    url: str,
    *,
    clients: int = 20,
    duration: float = 2.0,
    max_round_trips: int | None = None,
    token_for: TokenFor | None = None,
    secret: str = LOCAL_DEV_SECRET,
    message: str = MARCO,
    expect: str = "polo",
    connect_timeout: float = 10.0,
    reply_timeout: float = 5.0,
    correlate: bool = False,
    pipeline: int = 1,
) -> LoadReport:
    """Run ``clients`` marco/polo clients against ``url`` for ``duration`` seconds; report what happened.

    ``token_for(i)`` gives client ``i``'s token; by default each gets a fresh token for ``load-{i}``
    signed with ``secret`` (the local gateway's development secret unless told otherwise). Failures
    never raise: a client that cannot connect, times out or is closed stops, and its reason is one
    line in :attr:`LoadReport.errors`. Every client connects first; the run starts once all have
    connected or failed to, and its connections are closed when it ends.

    ``correlate=True`` tags every message with an ``id`` the server echoes (marco does) and pairs
    replies by it, with up to ``pipeline`` requests in flight per client; the report's
    ``duplicates``, ``out_of_order``, ``unmatched`` and ``lost`` then say what went wrong, if anything.
    """
    _check(clients, duration, max_round_trips, (connect_timeout, reply_timeout), pipeline, correlate, message)
    fleet = Clients(url, clients=clients, token_for=token_for, secret=secret, connect_timeout=connect_timeout)
    async with fleet:
        return await fleet.play(
            duration,
            max_round_trips=max_round_trips,
            message=message,
            expect=expect,
            reply_timeout=reply_timeout,
            correlate=correlate,
            pipeline=pipeline,
        )


def run(url: str, **options: Any) -> LoadReport:
    """:func:`run_load` from synchronous code (a script, a benchmark); not inside a running loop."""
    return asyncio.run(run_load(url, **options))
