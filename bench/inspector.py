"""What the inspector costs: marco→polo throughput with it off, on, and on with a page watching.

    python bench/inspector.py            # 1, 10 and 100 connections, 7 rounds of 2 s each
    python bench/inspector.py --quick    # 1 round of 1 s

Three ``wsapp local`` processes on this repo's template (``--no-inspector``; the default, recording;
the default with a Server-Sent Events reader attached, as an open inspector page) and, in the same
run, the bare aiohttp ceiling (bench/ceiling.py). Each is measured warm, the others paused, exactly
as bench/run.py measures (its ``load``: a ramped warm-up, then the measured run). Every figure is
printed with its ratio to the inspector-off figure (the target: on ≥ 90% of off) and to the ceiling.
The servers take turns within each round (the ceiling in the first only), so each round's on ÷ off
compares neighbours in time; the verdict is the median of those per-round ratios (their range in
brackets), the throughputs shown are medians too. A shared machine's noise (±20% between runs a
minute apart here) then falls on both sides of each ratio instead of deciding the verdict. A second
table gives what the throughput stands on: the CPU time the server's whole process tree (the gateway
and its execution environments) spent per answered message in the measured runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
from collections.abc import AsyncIterator

import aiohttp
from run import WAIT, Server, ceiling, emulator, free_port, load

COLUMNS = {"off": "inspector off", "on": "inspector on", "watched": "on, page watching", "ceiling": "ceiling"}
TARGET = 0.90  # the inspector keeps at least this share of the inspector-off throughput


@contextlib.asynccontextmanager
async def watching(port: int) -> AsyncIterator[list[int]]:
    """An inspector page's stream, read to the end of each event in a process of its own, as a browser
    tab would (its CPU is the machine's, not the load generator's loop). The list it yields gets the
    number of events received when the block ends."""
    received = [0]
    reader = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--read-stream", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert reader.stdout is not None
    try:
        ready = await asyncio.wait_for(reader.stdout.readline(), WAIT)
        if ready.strip() != b"reading":
            raise RuntimeError(f"the watching page did not start: {ready!r}")
        yield received
    finally:
        if reader.returncode is None:
            reader.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(reader.communicate(), WAIT)
    if reader.returncode != 0:
        raise RuntimeError(f"the watching page failed (exit {reader.returncode})")
    received[0] = int(out.split()[-1])


async def read_stream(port: int) -> None:
    """The watching page's process: reads the stream until SIGTERM, then prints the events it got."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    count = 0

    async def pump(stream: aiohttp.ClientResponse) -> None:
        nonlocal count
        async for chunk in stream.content.iter_any():  # an event's line may be long: no readline
            count += chunk.count(b"\ndata: ")

    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/_wsapp/api/stream") as stream:
            print("reading", flush=True)
            task = asyncio.ensure_future(pump(stream))
            await stop.wait()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    print(count, flush=True)


Samples = dict[tuple[str, int], list[float]]


async def measure(args: argparse.Namespace) -> tuple[Samples, Samples]:
    """Throughput (msg/s) and CPU per message (µs) of every server, per round."""
    duration, warm = (1.0, 0.3) if args.quick else (2.0, 0.5)
    inspector_port = free_port()
    servers = {
        "off": emulator(free_port(), args.isolation),
        "on": emulator(free_port(), args.isolation),
        "watched": emulator(free_port(), args.isolation),
        "ceiling": ceiling(free_port()),
    }
    servers["off"].argv.append("--no-inspector")
    servers["watched"].argv += ["--inspector-port", str(inspector_port)]
    rates: Samples = {}
    cpu: Samples = {}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_listening()
        # The gateway's port listens before the inspector's: wait for that one too (bounded, as run.py).
        Server("inspector", [], inspector_port, proc=servers["watched"].proc).wait_listening()
        for clients in args.clients:
            for round_ in range(1, args.rounds + 1):
                for key, server in servers.items():
                    if key == "ceiling" and round_ > 1:
                        continue  # a reference, not a side of any ratio: measured once
                    for other in servers.values():
                        other.pause(other is not server)
                    async with contextlib.AsyncExitStack() as stack:
                        if key == "watched":
                            events = await stack.enter_async_context(watching(inspector_port))
                        used: list[float] = []
                        report = await load(
                            server, clients, duration, warm, '{"action":"marco"}', "polo", cpu=used
                        )
                    if key == "watched" and not events[0]:  # counted as the reader ended, with the block
                        raise RuntimeError("the watching page received no events")
                    rates.setdefault((key, clients), []).append(report.throughput)
                    cpu.setdefault((key, clients), []).append(used[0] / report.answered * 1e6)
                    print(
                        f"  marco→polo, {clients} conn, round {round_}, {COLUMNS[key]}: "
                        f"{report.throughput:,.0f} msg/s, {cpu[(key, clients)][-1]:,.0f} µs CPU/msg",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.stop()
    return rates, cpu


def render(rates: Samples, clients: list[int]) -> str:
    head = ["measure", *COLUMNS.values(), "on ÷ off", "watched ÷ off", "off ÷ ceiling", "target", "verdict"]
    body = []
    for n in clients:
        off, top = statistics.median(rates[("off", n)]), statistics.median(rates[("ceiling", n)])
        verdict = " / ".join("met" if _paired(rates, k, n) >= TARGET else "MISSED" for k in ("on", "watched"))
        figures = [f"{statistics.median(rates[(k, n)]):,.0f}" for k in COLUMNS]
        ratios = [_ratio(rates, "on", n), _ratio(rates, "watched", n), f"{off / top:.0%}"]
        body.append(
            [f"marco→polo msg/s, {n} conn", *figures, *ratios, f"on, watched ≥ {TARGET:.0%} of off", verdict]
        )
    return _table(head, body)


def render_cpu(cpu: Samples, clients: list[int]) -> str:
    keys = ("off", "on", "watched")
    head = ["CPU per message (µs)", *(COLUMNS[k] for k in keys), "on ÷ off", "watched ÷ off"]
    body = [
        [
            f"marco→polo, {n} conn",
            *(f"{statistics.median(cpu[(k, n)]):,.0f}" for k in keys),
            _ratio(cpu, "on", n),
            _ratio(cpu, "watched", n),
        ]
        for n in clients
    ]
    return _table(head, body)


def _table(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def _each(samples: Samples, key: str, clients: int) -> list[float]:
    """Each round's ratio to off (the two measured a few seconds apart)."""
    return [a / b for a, b in zip(samples[(key, clients)], samples[("off", clients)], strict=True)]


def _paired(samples: Samples, key: str, clients: int) -> float:
    return statistics.median(_each(samples, key, clients))


def _ratio(samples: Samples, key: str, clients: int) -> str:
    """The median per-round ratio to off and, with more than one round, the range of those ratios."""
    each = _each(samples, key, clients)
    text = f"{statistics.median(each):.0%}"
    return text + (f" ({min(each):.0%}–{max(each):.0%})" if len(each) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s instead of 7 of 2 s")
    parser.add_argument("--isolation", choices=("process", "thread"), default="process")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, help="turns each server takes (default 7; 1 with --quick)")
    parser.add_argument("--read-stream", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_stream:
        asyncio.run(read_stream(args.read_stream))
        return
    args.rounds = args.rounds or (1 if args.quick else 7)
    one, _, _ = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {one:.1f}",
        flush=True,
    )
    rates, cpu = asyncio.run(measure(args))
    print()
    print(render(rates, args.clients))
    print()
    print(render_cpu(cpu, args.clients))
    print(
        f"\n- wsapp local --isolation {args.isolation} --quiet, the same template, taking turns; "
        f"{args.rounds} round(s): ratios are medians of the rounds' own, their range in brackets."
    )
    print("- watched: an SSE reader on the inspector's stream, in a process of its own (as a browser tab).")


if __name__ == "__main__":
    main()
