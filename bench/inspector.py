"""What the inspector costs: marco→polo throughput with it off, on, and on with a page watching.

    python bench/inspector.py            # 1, 10 and 100 connections, 3 s each
    python bench/inspector.py --quick    # 1 s each

Three ``wsapp local`` processes on this repo's template (``--no-inspector``; the default, recording;
the default with a Server-Sent Events reader attached, as an open inspector page) and, in the same
run, the bare aiohttp ceiling (bench/ceiling.py). Each is measured warm, the others paused, exactly
as bench/run.py measures (its ``load``: a ramped warm-up, then the measured run). Every figure is
printed with its ratio to the inspector-off figure (the target: on ≥ 90% of off) and to the ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
from run import Server, ceiling, emulator, free_port, load

COLUMNS = {"off": "inspector off", "on": "inspector on", "watched": "on, page watching", "ceiling": "ceiling"}
TARGET = 0.90  # the inspector keeps at least this share of the inspector-off throughput


@contextlib.asynccontextmanager
async def watching(port: int) -> AsyncIterator[list[int]]:
    """An inspector page's stream, read to the end of each event as the page would; yields the count."""
    received = [0]

    async def read(session: aiohttp.ClientSession) -> None:
        async with session.get(f"http://127.0.0.1:{port}/_wsapp/api/stream") as stream:
            async for chunk in stream.content.iter_any():  # an event's line may be long: no readline
                received[0] += chunk.count(b"\ndata: ")

    async with aiohttp.ClientSession() as session:
        task = asyncio.ensure_future(read(session))
        try:
            yield received
        finally:
            task.cancel()
            (outcome,) = await asyncio.gather(task, return_exceptions=True)
            if not isinstance(outcome, asyncio.CancelledError | None):
                raise RuntimeError(f"the watching page failed: {outcome!r}")


async def measure(args: argparse.Namespace) -> dict[tuple[str, int], float]:
    duration, warm = (1.0, 0.3) if args.quick else (3.0, 1.0)
    inspector_port = free_port()
    servers = {
        "off": emulator(free_port(), args.isolation),
        "on": emulator(free_port(), args.isolation),
        "watched": emulator(free_port(), args.isolation),
        "ceiling": ceiling(free_port()),
    }
    servers["off"].argv.append("--no-inspector")
    servers["watched"].argv += ["--inspector-port", str(inspector_port)]
    rates: dict[tuple[str, int], float] = {}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_listening()
        # The gateway's port listens before the inspector's: wait for that one too (bounded, as run.py).
        Server("inspector", [], inspector_port, proc=servers["watched"].proc).wait_listening()
        for clients in args.clients:
            for key, server in servers.items():
                for other in servers.values():
                    other.pause(other is not server)
                async with contextlib.AsyncExitStack() as stack:
                    if key == "watched":
                        events = await stack.enter_async_context(watching(inspector_port))
                    report = await load(server, clients, duration, warm, '{"action":"marco"}', "polo")
                    if key == "watched" and not events[0]:
                        raise RuntimeError("the watching page received no events")
                rates[(key, clients)] = report.throughput
                print(
                    f"  marco→polo, {clients} conn, {COLUMNS[key]}: {report.throughput:,.0f} msg/s",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
    return rates


def render(rates: dict[tuple[str, int], float], clients: list[int]) -> str:
    head = ["measure", *COLUMNS.values(), "on ÷ off", "watched ÷ off", "off ÷ ceiling", "target", "verdict"]
    body = []
    for n in clients:
        off, on, watched, top = (rates[(k, n)] for k in COLUMNS)
        verdict = " / ".join("met" if r / off >= TARGET else "MISSED" for r in (on, watched))
        figures = [f"{rates[(k, n)]:,.0f}" for k in COLUMNS]
        ratios = [f"{on / off:.0%}", f"{watched / off:.0%}", f"{off / top:.0%}"]
        body.append(
            [f"marco→polo msg/s, {n} conn", *figures, *ratios, f"on, watched ≥ {TARGET:.0%} of off", verdict]
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per measurement instead of 3")
    parser.add_argument("--isolation", choices=("process", "thread"), default="process")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    one, _, _ = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {one:.1f}",
        flush=True,
    )
    rates = asyncio.run(measure(args))
    print()
    print(render(rates, args.clients))
    print(f"\n- wsapp local --isolation {args.isolation} --quiet, the same template, one after the other.")
    print("- watched: an SSE reader on the inspector's stream in this process (it takes CPU here too).")


if __name__ == "__main__":
    main()
