"""Benchmark the local gateway against the machine's ceiling, in one run.

    python3 dev.py bench            # full run (~3 minutes on 2 cores)
    python3 dev.py bench --quick    # smaller counts, for a smoke check

Two servers run as separate processes on loopback, driven from this process by asyncio clients:
``wsapp local`` on this repo's template (authorizer, real handlers, boto3 ``post_to_connection``,
DynamoDB connection store) and ``bench/ceiling.py``, a bare aiohttp server that answers by itself.
Every figure is printed with its ratio to the ceiling and the target it is held to. Every loop is
bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.loadgen import run_load

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = "wsapp.v1"
TOKEN = issue_token("bench", secret=LOCAL_DEV_SECRET, ttl=3600)
WAIT = 30.0  # seconds: the bound on any single wait


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/prod"

    def start(self) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_listening(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not listen within {WAIT:g} s")

    def rss_bytes(self) -> int:
        """Resident memory of the whole process tree."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

    def processes(self) -> int:
        assert self.proc is not None
        return 1 + len(psutil.Process(self.proc.pid).children(recursive=True))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def emulator(port: int) -> Server:
    argv = [sys.executable, "-m", "wsapp", "local", "--port", str(port), "--quiet", "--connect-rate", "0"]
    return Server("wsapp local", argv, port)


def ceiling(port: int) -> Server:
    return Server("ceiling", [sys.executable, str(ROOT / "bench" / "ceiling.py"), str(port)], port)


async def first_reply_after_launch(server: Server) -> float:
    """Seconds from launching the server process to the first ``polo``."""
    server.start()
    deadline = time.monotonic() + WAIT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                ws = await session.ws_connect(server.url, protocols=(PROTOCOL, TOKEN))
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(0.005)
                continue
            await ws.send_str('{"action":"marco"}')
            msg = await ws.receive(timeout=WAIT)
            took = time.perf_counter() - server.started
            await ws.close()
            if '"polo"' not in str(msg.data):
                raise RuntimeError(f"{server.name}: expected polo, got {msg.data!r}")
            return took
    raise RuntimeError(f"{server.name}: no polo within {WAIT:g} s of launch")


async def open_many(
    session: aiohttp.ClientSession, url: str, count: int, in_flight: int
) -> tuple[list[aiohttp.ClientWebSocketResponse], int, float]:
    """Open ``count`` authorized connections, ``in_flight`` handshakes at a time: (sockets, failures, s)."""
    gate = asyncio.Semaphore(in_flight)
    failures = 0

    async def one() -> aiohttp.ClientWebSocketResponse | None:
        nonlocal failures
        async with gate:
            try:
                return await asyncio.wait_for(session.ws_connect(url, protocols=(PROTOCOL, TOKEN)), WAIT)
            except (aiohttp.ClientError, OSError, TimeoutError):
                failures += 1
                return None

    started = time.perf_counter()
    opened = await asyncio.gather(*(one() for _ in range(count)))
    took = time.perf_counter() - started
    return [ws for ws in opened if ws is not None], failures, took


async def close_all(sockets: list[aiohttp.ClientWebSocketResponse], url: str | None = None) -> None:
    """Close every socket; with ``url``, wait until the server answers a fresh connection promptly again
    (each close costs the gateway a ``$disconnect`` invocation, which must not bleed into the next figure)."""
    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(ws.close() for ws in sockets[start : start + 500]), return_exceptions=True)
    if url is None:
        return
    deadline = time.monotonic() + 120
    async with session() as s:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ws = await asyncio.wait_for(s.ws_connect(url, protocols=(PROTOCOL, TOKEN)), WAIT)
            except (aiohttp.ClientError, OSError, TimeoutError):
                await asyncio.sleep(0.5)  # still busy with the closes: try again
                continue
            await ws.close()
            if time.perf_counter() - started < 0.05:
                return
            await asyncio.sleep(0.5)


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def connection_rate(url: str, count: int, in_flight: int) -> tuple[float, int]:
    async with session() as s:
        sockets, failures, took = await open_many(s, url, count, in_flight)
        await close_all(sockets, url)
    return len(sockets) / took, failures


async def idle(server: Server, count: int, hold: float) -> dict[str, float]:
    """Hold ``count`` idle connections: RSS of the server's process tree and KiB per connection."""
    before = server.rss_bytes()
    async with session() as s:
        sockets, failures, _ = await open_many(s, server.url, count, 100)
        await asyncio.sleep(hold)
        after = server.rss_bytes()
        dropped = failures + sum(1 for ws in sockets if ws.closed)
        # Every held connection must still answer: one marco each, in batches.
        unanswered = 0
        for start in range(0, len(sockets), 1000):
            batch = sockets[start : start + 1000]
            await asyncio.gather(*(ws.send_str('{"action":"marco"}') for ws in batch), return_exceptions=True)
            replies = await asyncio.gather(
                *(ws.receive(timeout=WAIT) for ws in batch), return_exceptions=True
            )
            unanswered += sum(
                1 for r in replies if isinstance(r, BaseException) or '"polo"' not in str(r.data)
            )
        processes = server.processes()
        await close_all(sockets, server.url)
    return {
        "rss_mb": after / 2**20,
        "kib_per_connection": (after - before) / 1024 / count,
        "dropped": dropped,
        "unanswered": unanswered,
        "processes": processes,
    }


async def broadcast(url: str, count: int) -> float:
    """Seconds from one client's broadcast until the last of ``count`` connections has received it."""
    async with session() as s:
        sockets, failures, _ = await open_many(s, url, count, 100)
        if failures:
            raise RuntimeError(f"broadcast setup: {failures} connections failed")
        sender = sockets[0]
        started = time.perf_counter()
        await sender.send_str(json.dumps({"action": "broadcast", "message": "to everyone"}))

        async def receive(ws: aiohttp.ClientWebSocketResponse) -> float:
            while True:
                msg = await ws.receive(timeout=WAIT)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"connection closed before the broadcast: {msg.type}")
                if '"broadcast"' in msg.data:
                    return time.perf_counter()

        arrivals = await asyncio.gather(*(receive(ws) for ws in sockets))
        await close_all(sockets, url)
    return max(arrivals) - started


@dataclass
class Table:
    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(
        self, name: str, value: float, ceiling: float | None, unit: str, target: str, ok: bool | None
    ) -> None:
        ratio = f"{value / ceiling:.0%}" if ceiling else "-"
        shown_ceiling = _fmt(ceiling, unit) if ceiling is not None else "-"
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        self.rows.append((name, _fmt(value, unit), shown_ceiling, ratio, target, verdict))
        print(
            f"  {name}: {_fmt(value, unit)} (ceiling {shown_ceiling}, {ratio}) {target} {verdict}", flush=True
        )

    def render(self) -> str:
        head = ("measure", "wsapp local", "ceiling", "ratio", "target", "")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(head), rule, *map(line, self.rows)])


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value * 1000:.2f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "KiB":
        return f"{value:.1f} KiB"
    return f"{value:,.0f} {unit}"


async def measure(args: argparse.Namespace) -> Table:
    table = Table()
    duration = 1.0 if args.quick else 3.0
    idle_count = 1000 if args.quick else 10_000
    servers = {"emulator": emulator(free_port()), "ceiling": ceiling(free_port())}
    try:
        launch = {name: await first_reply_after_launch(s) for name, s in servers.items()}
        print("first reply after launch", flush=True)
        table.add(
            "first polo after launch",
            launch["emulator"],
            launch["ceiling"],
            "s",
            "≤ 3 s",
            launch["emulator"] <= 3.0,
        )
        for route, message, expect in (
            ("marco→polo", '{"action":"marco"}', "polo"),
            ("two-way ping→pong", '{"action":"ping"}', "pong"),
        ):
            for clients in (1, 10, 100):
                reports = {}
                for name, server in servers.items():
                    reports[name] = await run_load(
                        server.url,
                        clients=clients,
                        duration=duration,
                        message=message,
                        expect=expect,
                        token_for=lambda i: TOKEN,
                    )
                    if reports[name].errors:
                        raise RuntimeError(f"{name} {route}: {reports[name].error_counts()}")
                emu, top = reports["emulator"], reports["ceiling"]
                if route.startswith("marco"):
                    target, ok = {10: ("≥ 1,000 msg/s", emu.throughput >= 1000)}.get(clients, ("", None))
                else:
                    target, ok = (
                        ("≥ 50% of ceiling", emu.throughput >= top.throughput / 2)
                        if clients <= 10
                        else ("", None)
                    )
                table.add(
                    f"{route} msg/s, {clients} conn", emu.throughput, top.throughput, "msg/s", target, ok
                )
                for q in (50, 95, 99):
                    p_target, p_ok = ("", None)
                    if route.startswith("marco") and clients == 1 and q == 50:
                        p_target, p_ok = "≤ 1.5 ms", emu.percentile(50) <= 0.0015
                    table.add(
                        f"{route} p{q}, {clients} conn",
                        emu.percentile(q),
                        top.percentile(q),
                        "ms",
                        p_target,
                        p_ok,
                    )
        count = 200 if args.quick else 500
        for in_flight, name in ((1, "one at a time"), (100, "100 in flight")):
            rates = {n: await connection_rate(s.url, count, in_flight) for n, s in servers.items()}
            if rates["emulator"][1] or rates["ceiling"][1]:
                raise RuntimeError(f"connection failures: {rates}")
            ok = rates["emulator"][0] >= 500 if in_flight == 100 else None
            table.add(
                f"new authorized connections/s, {name}",
                rates["emulator"][0],
                rates["ceiling"][0],
                "conn/s",
                "≥ 500/s" if in_flight == 100 else "",
                ok,
            )
        fan = {n: await broadcast(s.url, 1000) for n, s in servers.items()}
        table.add(
            "broadcast to 1,000 connections",
            fan["emulator"],
            fan["ceiling"],
            "s",
            "≤ 2 s",
            fan["emulator"] <= 2.0,
        )
        held = {n: await idle(s, idle_count, 2.0) for n, s in servers.items()}
        emu_idle = held["emulator"]
        ok = emu_idle["rss_mb"] <= 300 and emu_idle["dropped"] == 0 and emu_idle["unanswered"] == 0
        table.add(
            f"{idle_count:,} idle connections: RSS",
            emu_idle["rss_mb"],
            held["ceiling"]["rss_mb"],
            "MB",
            "≤ 300 MB, none dropped",
            ok,
        )
        table.add(
            f"{idle_count:,} idle connections: per connection",
            emu_idle["kib_per_connection"],
            held["ceiling"]["kib_per_connection"],
            "KiB",
            "",
            None,
        )
        table.add(
            f"{idle_count:,} idle: dropped + unanswered",
            emu_idle["dropped"] + emu_idle["unanswered"],
            held["ceiling"]["dropped"] + held["ceiling"]["unanswered"],
            "conn",
            "0",
            None,
        )
        table.add(
            f"{idle_count:,} idle: processes in the emulator's tree",
            emu_idle["processes"],
            None,
            "proc",
            "1",
            emu_idle["processes"] == 1,
        )
    finally:
        for server in servers.values():
            server.stop()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts and shorter runs")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}", flush=True)
    table = asyncio.run(measure(args))
    print()
    print(table.render())
    if args.markdown:
        args.markdown.write_text(table.render() + "\n")


if __name__ == "__main__":
    main()
