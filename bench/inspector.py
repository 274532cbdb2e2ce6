"""What the inspector costs: marco→polo throughput with it off, on, and on with a page watching.

    python bench/inspector.py            # 1, 10 and 100 connections, 40 rounds of 0.5 s turns
    python bench/inspector.py --quick    # 1 round of 0.5 s turns

Three ``wsapp local`` processes on this repo's template (``--no-inspector``; the default, recording;
the default with a Server-Sent Events reader attached, as an open inspector page) and, in the same
run, the bare aiohttp ceiling (bench/ceiling.py, measured once as bench/run.py measures it). Every
figure is printed with its ratio to the inspector-off figure (the target: on ≥ 90% of off) and to
the ceiling.

The three servers take short turns, the others paused (SIGSTOP), each keeping its connections open
from turn to turn (``wsapp.loadgen.Clients``: connected and warmed once, no handshakes between
turns). A round is one turn each, in an order that rotates and reverses from round to round, so on
and off always run within a second or two of each other. The verdict is on's mean throughput over
all its turns ÷ off's (every turn weighing the same), printed with a 95% bootstrap interval over the
rounds. This machine's speed drifts by ±20% and more over seconds (a shared VM): many short
alternating turns put that drift on both sides of each ratio and average it out, where a few long
runs let it decide the verdict. A second table gives what the throughput stands on: the CPU time
the server's whole process tree (the gateway and its execution environments) spent per answered
message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import sys
from collections.abc import AsyncIterator, Sequence

import aiohttp
from run import TOKEN, WAIT, Server, ceiling, emulator, free_port, load

from wsapp.loadgen import MARCO, Clients, LoadReport

COLUMNS = {"off": "inspector off", "on": "inspector on", "watched": "on, page watching", "ceiling": "ceiling"}
TARGET = 0.90  # the inspector keeps at least this share of the inspector-off throughput
SETTLE = 0.1  # seconds each turn plays unmeasured first: the server has just been resumed
BOOTSTRAP = 2000  # resamples for each ratio's interval


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


def turns(keys: list[str], round_: int) -> list[str]:
    """The order the servers take their turns in a round: rotated every round and reversed every other
    one, so no server is always first after a pause or always next to the same neighbour."""
    shift = round_ % len(keys)
    order = keys[shift:] + keys[:shift]
    return order[::-1] if round_ % 2 else order


async def measure(args: argparse.Namespace) -> tuple[Samples, Samples]:
    """Throughput (msg/s) and CPU per message (µs) of every server, per round."""
    duration, warm = args.turn, (0.3 if args.quick else 1.0)
    inspector_port = free_port()
    servers = {
        "off": emulator(free_port(), args.isolation),
        "on": emulator(free_port(), args.isolation),
        "watched": emulator(free_port(), args.isolation),
    }
    servers["off"].argv.append("--no-inspector")
    servers["watched"].argv += ["--inspector-port", str(inspector_port)]
    top = ceiling(free_port())
    everyone = [*servers.values(), top]
    rates: Samples = {}
    cpu: Samples = {}

    def only(running: Server) -> None:
        for other in everyone:
            other.pause(other is not running)

    try:
        for server in everyone:
            server.start()
        for server in everyone:
            server.wait_listening()
        # The gateway's port listens before the inspector's: wait for that one too (bounded, as run.py).
        Server("inspector", [], inspector_port, proc=servers["watched"].proc).wait_listening()
        for clients in args.clients:
            only(top)  # a reference, not a side of any ratio: measured once, as bench/run.py does
            report = await load(top, clients, duration, warm, MARCO, "polo")
            rates[("ceiling", clients)] = [report.throughput]
            async with contextlib.AsyncExitStack() as stack:
                fleets: dict[str, Clients] = {}
                for key, server in servers.items():
                    only(server)  # connected and warmed alone, as it will be measured
                    fleets[key] = await stack.enter_async_context(
                        Clients(server.url, clients=clients, token_for=lambda i: TOKEN, connect_timeout=WAIT)
                    )
                    await _played(fleets[key], warm, clients)
                stack.callback(lambda: [server.pause(False) for server in servers.values()])  # to close
                events = await stack.enter_async_context(watching(inspector_port))
                for round_ in range(1, args.rounds + 1):
                    for key in turns(list(servers), round_):
                        server = servers[key]
                        only(server)
                        await _played(fleets[key], SETTLE, clients)  # back from its pause, unmeasured
                        before = server.cpu_seconds()
                        report = await _played(fleets[key], duration, clients)
                        used = server.cpu_seconds() - before
                        rates.setdefault((key, clients), []).append(report.throughput)
                        cpu.setdefault((key, clients), []).append(used / report.answered * 1e6)
                    print(
                        f"  marco→polo, {clients} conn, round {round_}: "
                        + ", ".join(f"{k} {rates[(k, clients)][-1]:,.0f} msg/s" for k in servers),
                        flush=True,
                    )
                only(servers["watched"])  # the reader's last events arrive while its server runs
            if not events[0]:  # counted as the reader ended, with the block
                raise RuntimeError("the watching page received no events")
    finally:
        for server in everyone:
            server.stop()
    return rates, cpu


async def _played(fleet: Clients, duration: float, clients: int) -> LoadReport:
    report = await fleet.play(duration, message=MARCO, expect="polo", reply_timeout=WAIT)
    if report.errors or report.connected != clients:
        raise RuntimeError(f"{report.connected} of {clients} connected: {report.error_counts()}")
    return report


def render(rates: Samples, clients: list[int]) -> str:
    head = ["measure", *COLUMNS.values(), "on ÷ off", "watched ÷ off", "off ÷ ceiling", "target", "verdict"]
    body = []
    for n in clients:
        off, top = statistics.fmean(rates[("off", n)]), rates[("ceiling", n)][0]
        verdict = " / ".join("met" if _pooled(rates, k, n) >= TARGET else "MISSED" for k in ("on", "watched"))
        figures = [f"{statistics.fmean(rates[(k, n)]):,.0f}" for k in COLUMNS]
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
            *(f"{statistics.fmean(cpu[(k, n)]):,.0f}" for k in keys),
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


def _pooled(samples: Samples, key: str, clients: int, rounds: Sequence[int] | None = None) -> float:
    """``key``'s mean over the rounds ÷ off's mean over the same rounds (equal turns: the ratio of
    messages per second over all turns), every turn weighing the same."""
    ours, off = samples[(key, clients)], samples[("off", clients)]
    picked = range(len(off)) if rounds is None else rounds
    return statistics.fmean(ours[i] for i in picked) / statistics.fmean(off[i] for i in picked)


def _interval(samples: Samples, key: str, clients: int) -> tuple[float, float]:
    """A 95% interval of :func:`_pooled`: the rounds resampled (a bootstrap, seeded: the same data
    gives the same interval), each round keeping its pair of neighbouring turns together."""
    draw = random.Random(0)
    n = len(samples[("off", clients)])
    again = sorted(_pooled(samples, key, clients, draw.choices(range(n), k=n)) for _ in range(BOOTSTRAP))
    return again[int(0.025 * BOOTSTRAP)], again[int(0.975 * BOOTSTRAP) - 1]


def _ratio(samples: Samples, key: str, clients: int) -> str:
    """The pooled ratio to off and, with more than one round, its 95% interval."""
    text = f"{_pooled(samples, key, clients):.0%}"
    if len(samples[("off", clients)]) < 2:
        return text
    low, high = _interval(samples, key, clients)
    return f"{text} ({low:.0%}–{high:.0%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 0.5 s turns")
    parser.add_argument("--isolation", choices=("process", "thread"), default="process")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, help="turns each server takes (default 40; 1 with --quick)")
    parser.add_argument("--turn", type=float, default=0.5, help="seconds measured per turn (default 0.5)")
    parser.add_argument("--read-stream", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_stream:
        asyncio.run(read_stream(args.read_stream))
        return
    args.rounds = args.rounds or (1 if args.quick else 40)
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
        f"{args.rounds} round(s) of {args.turn:g} s turns: figures are means over the turns, ratios "
        "those means' (every turn weighing the same), a 95% bootstrap interval over the rounds in brackets."
    )
    print("- watched: an SSE reader on the inspector's stream, in a process of its own (as a browser tab).")


if __name__ == "__main__":
    main()
