"""Load: 1,000 authorized connections × 100 marcos, a broadcast to 500, and connect/message/disconnect churn.

The gateway runs in a process of its own (this repository's template.yaml, the real handlers, the
embedded DynamoDB), so the clients here and the server each get a core and the server's memory can
be measured alone. Every wait is bounded; the whole run is bounded by pytest-timeout as well.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter

import aiohttp
import pytest

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.loadgen import APP_PROTOCOL, run_load

WAIT = 30.0  # seconds: the bound on any single wait below
TOKEN = issue_token("reliability", secret=LOCAL_DEV_SECRET, ttl=4 * 3600)


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def open_many(s: aiohttp.ClientSession, url: str, count: int) -> list[aiohttp.ClientWebSocketResponse]:
    gate = asyncio.Semaphore(100)

    async def one() -> aiohttp.ClientWebSocketResponse:
        async with gate:
            return await asyncio.wait_for(s.ws_connect(url, protocols=(APP_PROTOCOL, TOKEN)), WAIT)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def next_text(ws: aiohttp.ClientWebSocketResponse) -> dict:
    msg = await ws.receive(timeout=WAIT)
    assert msg.type is aiohttp.WSMsgType.TEXT, (msg.type, msg.data)
    return json.loads(msg.data)


# -- 1,000 × 100 -------------------------------------------------------------------------------------


async def pipelined_marcos(gateway, figures, *, clients: int, rounds: int, mode: str, note: str, wait: float):
    """``rounds`` id-tagged marcos per client, four in flight; the run is recorded in the figures."""
    started = time.perf_counter()
    report = await run_load(
        gateway.url,
        clients=clients,
        duration=wait * 5,
        max_round_trips=rounds,
        correlate=True,
        pipeline=4,
        connect_timeout=wait,
        reply_timeout=wait,
    )
    figures.record_load(
        f"marco × {rounds} per connection, 4 in flight, {mode} mode",
        connections=f"{report.connected:,} concurrent",
        sent=report.sent,
        answered=report.answered - report.duplicates,
        lost=report.lost,
        out_of_order=report.out_of_order,
        errors=len(report.errors) + report.duplicates + report.unmatched,
        other=f"{report.throughput:,.0f} msg/s; {note(report) if callable(note) else note}",
        seconds=time.perf_counter() - started,
    )
    return report


@pytest.mark.timeout(600)
async def test_1000_connections_each_send_100_marcos_all_answered_once_in_order(serve, figures):
    # In-order mode: one connection's messages are invoked one after another (whether AWS does so is
    # UNCONFIRMED; by default the emulator invokes them concurrently, as Lambda may), so four marcos
    # in flight per connection must come back in the order they were sent.
    gateway = serve(limits={"connect_rate": 0}, behaviour={"serialize_per_connection": True})
    report = await pipelined_marcos(
        gateway,
        figures,
        clients=1000,
        rounds=100,
        mode="in-order",
        note=lambda r: f"p50 {r.percentile(50) * 1000:.0f} ms, p99 {r.percentile(99) * 1000:.0f} ms",
        wait=120,
    )
    assert report.errors == ()
    assert report.connected == 1000
    assert report.sent == 100_000
    assert (report.answered, report.lost) == (100_000, 0)
    assert (report.duplicates, report.unmatched, report.out_of_order) == (0, 0, 0)
    assert {rt.client for rt in report.round_trips} == set(range(1000))


@pytest.mark.timeout(300)
async def test_in_the_default_concurrent_mode_every_pipelined_marco_is_answered_exactly_once(serve, figures):
    # Default mode: a connection's messages are invoked concurrently, as Lambda may, so replies may
    # overtake each other; none may be lost or doubled.
    gateway = serve(limits={"connect_rate": 0})
    report = await pipelined_marcos(
        gateway,
        figures,
        clients=200,
        rounds=50,
        mode="default (concurrent)",
        note="reordering allowed in this mode",
        wait=60,
    )
    assert report.errors == ()
    assert (report.connected, report.sent) == (200, 10_000)
    assert (report.answered, report.lost, report.duplicates, report.unmatched) == (10_000, 0, 0, 0)


# -- broadcast ---------------------------------------------------------------------------------------


@pytest.mark.timeout(180)
@pytest.mark.parametrize("inprocess_sdk", [True, False], ids=["in-process-sdk", "http-sdk"])
async def test_a_broadcast_from_one_of_500_connections_reaches_all_500_exactly_once(
    serve, figures, inprocess_sdk
):
    gateway = serve(limits={"connect_rate": 0}, inprocess_sdk=inprocess_sdk)
    async with session() as s:
        sockets = await open_many(s, gateway.url, 500)
        started = time.perf_counter()
        await sockets[0].send_str(json.dumps({"action": "broadcast", "message": "to all 500"}))
        frames = await asyncio.gather(*(next_text(ws) for ws in sockets))
        took = time.perf_counter() - started
        senders = Counter(f["from"] for f in frames if f.get("action") == "broadcast")
        assert [f["message"] for f in frames] == ["to all 500"] * 500
        assert len(senders) == 1
        # Exactly once: the next frame each connection receives is the answer to its own marco.
        await asyncio.gather(*(ws.send_str('{"action":"marco","id":1}') for ws in sockets))
        after = await asyncio.gather(*(next_text(ws) for ws in sockets))
        assert [(f["action"], f["id"]) for f in after] == [("polo", 1)] * 500
        await asyncio.gather(*(ws.close() for ws in sockets))
    figures.record_load(
        f"broadcast from one connection ({'in-process' if inprocess_sdk else 'HTTP'} `@connections`)",
        connections="500",
        sent=1,
        answered=500,
        lost=0,
        errors=0,
        other="every connection got it exactly once",
        seconds=took,
    )


# -- churn -------------------------------------------------------------------------------------------

WARM_UP = 0.3  # share of the run before the memory baseline is taken
RSS_GROWTH_LIMIT = 24 * 2**20


@pytest.mark.churn  # its pytest-timeout is --churn-seconds + 120 s (conftest.py)
async def test_churn_of_connects_messages_and_disconnects_keeps_memory_flat(
    wsapp_local, figures, churn_seconds
):
    """Mixed connect / marco / disconnect (clean close or TCP drop) for ``--churn-seconds``.

    Memory: Python keeps freed memory in its arenas and moto's table grows and shrinks, so RSS is not
    expected to return to its start; what must not happen is growth that scales with the number of
    connections served. The baseline is taken after a warm-up (first 30 %: code paths imported,
    thread pools and arenas at their working size); at the end, with every connection gone, RSS may
    exceed it by at most 24 MiB. Thousands of connections pass through after the baseline, so a leak
    of even a few KiB per connection, event or message would cross that line in a 10-minute soak.
    """
    gateway = wsapp_local("--connect-rate", "0")
    rng = random.Random(7)
    deadline = time.monotonic() + churn_seconds
    warm_until = time.monotonic() + churn_seconds * WARM_UP
    counts: Counter[str] = Counter()
    problems: list[str] = []
    baseline: list[int] = []

    async def worker(s: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            try:
                ws = await asyncio.wait_for(s.ws_connect(gateway.url, protocols=(APP_PROTOCOL, TOKEN)), WAIT)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                problems.append(f"connect: {exc!r}")
                return
            counts["connections"] += 1
            for n in range(rng.randint(0, 8)):
                await ws.send_str(json.dumps({"action": "marco", "id": n}))
                counts["sent"] += 1
                try:
                    reply = await next_text(ws)
                except (AssertionError, TimeoutError) as exc:
                    problems.append(f"marco {n}: {exc!r}")
                    break
                if (reply.get("action"), reply.get("id")) != ("polo", n):
                    problems.append(f"marco {n}: {reply}")
                    break
                counts["answered"] += 1
            ending = rng.random()
            if ending < 0.7:
                await ws.close()
                counts["closed cleanly"] += 1
            else:  # drop the TCP connection without a close frame
                transport = ws._conn.transport if ws._conn is not None else None
                if transport is not None:
                    transport.abort()
                counts["dropped"] += 1
                await ws.close()

    async def sample_baseline() -> None:
        await asyncio.sleep(max(0.0, warm_until - time.monotonic()))
        baseline.append(gateway.rss())
        counts["connections at baseline"] = counts["connections"]

    async with session() as s:
        await asyncio.gather(sample_baseline(), *(worker(s) for _ in range(40)))
    await asyncio.sleep(2.0)  # every $disconnect has run by then
    final = gateway.rss()
    growth = final - baseline[0]
    after_baseline = counts["connections"] - counts["connections at baseline"]
    figures.record_load(
        f"churn for {churn_seconds:g} s: connect, 0-8 marcos, close or TCP drop (`wsapp local`)",
        connections=f"{counts['connections']:,} opened, 40 at a time",
        sent=counts["sent"],
        answered=counts["answered"],
        lost=counts["sent"] - counts["answered"],
        errors=len(problems),
        other=f"{counts['dropped']:,} TCP drops; RSS {baseline[0] / 2**20:.0f} → {final / 2**20:.0f} MiB "
        f"({growth / 2**20:+.1f} MiB over {after_baseline:,} connections after warm-up)",
        seconds=churn_seconds,
    )
    assert problems == []
    assert counts["sent"] == counts["answered"] > 0
    assert gateway.proc.poll() is None, gateway.errors()
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew {growth / 2**20:.1f} MiB after warm-up"
