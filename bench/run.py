"""Benchmark the local gateway against the machine's ceiling and serverless-offline, in one run.

    python3 dev.py bench                      # full run
    python3 dev.py bench --quick              # smaller counts, for a smoke check
    python3 dev.py bench --both-isolations    # wsapp measured with process and thread isolation
    python3 dev.py bench --isolation thread   # wsapp local --isolation thread only

Servers run as separate processes on loopback, driven from this process by asyncio clients
(``wsapp.loadgen.run_load`` for every message figure, whoever serves it):

- ``wsapp local`` on this repo's template (authorizer, real handlers, boto3 ``post_to_connection``,
  DynamoDB connection store), with ``--isolation process`` (the default) or ``thread``, or both;
- ``bench/ceiling.py``, a bare aiohttp server that answers by itself: the machine's ceiling;
- serverless-offline (Serverless Framework v3's plugin, bench/peers/serverless_offline/) running the
  same marco/polo and two-way ping with a Python handler (boto3) and with a Node.js one (SDK v3),
  installed on first use under .wsapp/bench-peers/. Its connections are not authorized (no authorizer,
  no connection store): wsapp's are. If npm is missing or the install fails, its columns show "-"
  and why.

Every wsapp figure is printed with its ratio to the ceiling (percent) and to each serverless-offline
(×: above 1 is more for wsapp, so better for rates and worse for times), and the targets it is held
to. Each message load is preceded by a short warm-up on the same server, ramping up to the same number
of connections, so every server is measured warm (environments, handler processes and worker threads
already started); cold starts are measured on their own, from fresh launches. A serverless-offline
that fails a measurement is restarted before the next one. Every loop is bounded in count and in time,
and every process started here is stopped (serverless-offline as a whole process group).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import psutil
import serverless_offline

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.loadgen import LoadReport, run_load

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = "wsapp.v1"
TOKEN = issue_token("bench", secret=LOCAL_DEV_SECRET, ttl=3600)
WAIT = 30.0  # seconds: the bound on any single wait
PEER_LIMIT = 180.0  # seconds: the bound on any one measurement of a peer (it may be slow, or stuck)
COLD_STARTS = 3  # fresh launches per server for the cold-start figure (the median is printed)
LOGS = ROOT / ".wsapp" / "bench-logs"  # what the servers wrote, kept until the next run

ISOLATIONS = ("process", "thread")
PEERS = {"py": "python", "node": "node"}  # column key → serverless-offline variant
TITLES = {
    "process": "wsapp local (process)",
    "thread": "wsapp local (thread)",
    "ceiling": "ceiling",
    "py": serverless_offline.VARIANTS["python"],
    "node": serverless_offline.VARIANTS["node"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] | None = None
    cwd: Path = ROOT
    log: Path | None = None  # stdout and stderr go to this file (else stdout is dropped, stderr piped)
    group: bool = False  # a process group of its own, stopped as a whole (node and the handlers it spawns)
    path: str = "/prod"
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    _log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    def start(self) -> None:
        self.started = time.perf_counter()
        if self.log is not None:
            self._log_file = self.log.open("wb")
            out: Any = self._log_file
            err: Any = self._log_file
        else:
            out, err = subprocess.DEVNULL, subprocess.PIPE
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=self.group,
        )

    def output(self, limit: int = 2000) -> str:
        """The end of what the server wrote (its log file, or its stderr once it has exited)."""
        if self.log is not None and self.log.exists():
            return self.log.read_bytes()[-limit:].decode(errors="replace")
        if self.proc is not None and self.proc.stderr is not None and self.proc.poll() is not None:
            return self.proc.stderr.read().decode(errors="replace")[-limit:]
        return ""

    def exited(self) -> str | None:
        """Why the server is gone, if it is."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return f"{self.name} exited with {self.proc.returncode}: {_last_line(self.output())}"

    def wait_listening(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if (gone := self.exited()) is not None:
                raise RuntimeError(gone)
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

    def pss_bytes(self) -> int:
        """Proportional memory of the whole process tree: a page shared by n processes counts 1/n in each
        (environments forked from one fork server share what it imported; RSS counts that once each)."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        return sum(p.memory_full_info().pss for p in [root, *root.children(recursive=True)])

    def cpu_seconds(self) -> float:
        """User and system CPU time the whole process tree has used so far (live processes only)."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def processes(self) -> int:
        assert self.proc is not None
        return 1 + len(psutil.Process(self.proc.pid).children(recursive=True))

    def pause(self, paused: bool) -> None:
        """SIGSTOP (or SIGCONT) the whole process tree: a server not being measured must not take CPU
        from the one that is (an idle serverless-offline's node process was seen using a third of a core,
        and its handler processes more)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        sig = signal.SIGSTOP if paused else signal.SIGCONT
        try:
            tree = [psutil.Process(self.proc.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for process in tree if paused else reversed(tree):
            try:
                process.send_signal(sig)
            except psutil.NoSuchProcess:
                continue

    def stop(self) -> None:
        if self.proc is not None:
            self.pause(False)  # a stopped process would not act on SIGTERM
            if self.group:
                self._signal_group(signal.SIGTERM)
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL) if self.group else self.proc.kill()
                self.proc.wait(timeout=WAIT)
            if self.group:
                self._signal_group(signal.SIGKILL)  # whatever the leader left behind in its group
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)  # start_new_session: the group's id is the leader's pid
        except ProcessLookupError:
            pass


def emulator(port: int, isolation: str, *, quiet: bool = True, log: Path | None = None) -> Server:
    argv = [sys.executable, "-m", "wsapp", "local", "--port", str(port), "--connect-rate", "0"]
    argv += ["--isolation", isolation] + (["--quiet"] if quiet else [])
    return Server(TITLES[isolation], argv, port, log=log)


def ceiling(port: int) -> Server:
    return Server("ceiling", [sys.executable, str(ROOT / "bench" / "ceiling.py"), str(port)], port)


def peer(key: str, port: int, log: Path, *, log_invocations: bool = False) -> Server:
    variant = PEERS[key]
    return Server(
        TITLES[key],
        serverless_offline.argv(variant, port, (free_port(), free_port(), free_port())),
        port,
        env=serverless_offline.environment(port, log_invocations=log_invocations),
        cwd=serverless_offline.INSTALL_DIR,
        log=log,
        group=True,
    )


async def first_reply_after_launch(server: Server) -> float:
    """Seconds from launching the server process to the first ``polo``."""
    server.start()
    deadline = time.monotonic() + WAIT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if (gone := server.exited()) is not None:
                raise RuntimeError(gone)
            try:
                ws = await asyncio.wait_for(session.ws_connect(server.url, protocols=(PROTOCOL, TOKEN)), WAIT)
            except (aiohttp.ClientError, OSError, TimeoutError):
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


async def connection_rate(url: str, count: int, in_flight: int) -> float:
    async with session() as s:
        sockets, failures, took = await open_many(s, url, count, in_flight)
        await close_all(sockets, url)
    if failures:
        raise RuntimeError(f"{failures} of {count} connections failed")
    return len(sockets) / took


async def idle(server: Server, count: int, hold: float) -> dict[str, float]:
    """Hold ``count`` idle connections: RSS of the server's process tree and KiB per connection."""
    before = server.rss_bytes()
    async with session() as s:
        sockets, failures, _ = await open_many(s, server.url, count, 100)
        await asyncio.sleep(hold)
        after = server.rss_bytes()
        proportional = server.pss_bytes()
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
        "pss_mb": proportional / 2**20,
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


async def load(
    server: Server,
    clients: int,
    duration: float,
    warm: float,
    message: str,
    expect: str,
    *,
    cpu: list[float] | None = None,
) -> LoadReport:
    """A warm-up of the same shape (patient: it may start environments), then the measured run.

    With ``cpu``, the CPU seconds the server's process tree used during the measured run are appended.

    The warm-up ramps up to ``clients`` in steps of 10 connections, so a server that starts one handler
    instance per concurrent invocation (serverless-offline) starts at most 10 at a time, as it would
    under a load that grows, instead of ``clients`` at once; every server gets the same ramp.
    """
    options: dict[str, Any] = dict(message=message, expect=expect, token_for=lambda i: TOKEN)
    for step in [*range(10, clients, 10), clients]:
        warmup = await run_load(
            server.url,
            clients=step,
            duration=warm if step == clients else 0.1,
            connect_timeout=WAIT,
            reply_timeout=WAIT,
            **options,
        )
        if warmup.errors:
            raise RuntimeError(f"warm-up with {step} connections: {_errors(warmup)}")
    before = server.cpu_seconds() if cpu is not None else 0.0
    report = await run_load(server.url, clients=clients, duration=duration, **options)
    if cpu is not None:
        cpu.append(server.cpu_seconds() - before)
    if report.errors:
        raise RuntimeError(_errors(report))
    return report


def _errors(report: LoadReport) -> str:
    counts = list(report.error_counts().items())
    text = "; ".join(f"{n}× {line}" for line, n in counts[:2])
    return text + (f"; {len(counts) - 2} more kinds" if len(counts) > 2 else "")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


# -- cold starts --------------------------------------------------------------------------------------
REPORT_LINE = re.compile(
    r"^\[(?P<function>\w+)[^\]]*\] REPORT RequestId: \S+\tDuration: (?P<duration>[\d.]+) ms\t"
    r".*Init Duration: (?P<init>[\d.]+) ms"
)
PEER_INVOCATION = re.compile(r"\(λ: \w+\) RequestId: \S+\s+Duration: (?P<duration>[\d.]+) ms")


async def _lines_until(
    server: Server, done: Callable[[list[str]], bool], wait: float = WAIT, *, required: bool = True
) -> list[str]:
    """The server's log lines, re-read until ``done(lines)``; after ``wait`` seconds an error, or (not
    ``required``) the lines as they are."""
    assert server.log is not None
    deadline = time.monotonic() + wait
    while True:
        lines = server.log.read_text(errors="replace").splitlines()
        if done(lines):
            return lines
        if (gone := server.exited()) is not None:
            raise RuntimeError(gone)
        if time.monotonic() > deadline:
            if not required:
                return lines
            raise RuntimeError(f"{server.name}: the expected log lines did not appear within {wait:g} s")
        await asyncio.sleep(0.05)


def _cold_reports(lines: list[str]) -> list[re.Match[str]]:
    """The REPORT lines that carry Init Duration (an environment's first invocation), in log order."""
    return [m for m in map(REPORT_LINE.match, lines) if m is not None]


async def wsapp_cold_start(log: Path, side_by_side: int = 2) -> dict[str, float]:
    """One fresh ``wsapp local`` (process isolation, function logs on): its environments' cold starts.

    An environment's first REPORT carries ``Init Duration`` (spawn → the runtime's first request for
    work); with that invocation's ``Duration`` it is spawn → first response.

    - ``first``: the first such line, the AuthorizerFunction's (a connection is authorized before
      ``$connect`` runs). Its environment started at launch, side by side with the WebSocketFunction's.
    - ``socket_fn``: the WebSocketFunction's first (boto3, Powertools, the DynamoDB put of ``$connect``).
    - ``on_demand``: then ``side_by_side`` connections arrive at once; the environments started for them
      while the gateway was otherwise idle report their own first invocations: the earliest of those.
    """
    server = emulator(free_port(), "process", quiet=False, log=log)
    try:
        await first_reply_after_launch(server)
        await _lines_until(server, lambda lines: len({m["function"] for m in _cold_reports(lines)}) >= 2)
        assert server.log is not None
        launched = len(_cold_reports(server.log.read_text(errors="replace").splitlines()))
        async with session() as s:
            sockets, _, _ = await open_many(s, server.url, side_by_side, side_by_side)
            await asyncio.gather(*(ws.send_str('{"action":"marco"}') for ws in sockets))
            await asyncio.gather(*(ws.receive(timeout=WAIT) for ws in sockets), return_exceptions=True)
            await close_all(sockets)
        lines = await _lines_until(
            server, lambda lines: len(_cold_reports(lines)) > launched, 5.0, required=False
        )
        reports = _cold_reports(lines)
        first = reports[0]
        result = {
            "first": float(first["init"]) + float(first["duration"]),
            "first_init": float(first["init"]),
        }
        socket_fn = next((m for m in reports if m["function"] == "WebSocketFunction"), None)
        if socket_fn is not None:
            result["socket_fn"] = float(socket_fn["init"]) + float(socket_fn["duration"])
        if len(reports) > launched:
            later = reports[launched]
            result["on_demand"] = float(later["init"]) + float(later["duration"])
        return result
    finally:
        server.stop()


async def peer_cold_start(key: str, log: Path) -> dict[str, float]:
    """One fresh serverless-offline: the first invocation's Duration, which includes starting the
    handler's process (Python) or worker thread (Node.js) and loading the handler: spawn → response."""
    server = peer(key, free_port(), log, log_invocations=True)
    try:
        await first_reply_after_launch(server)
        lines = await _lines_until(server, lambda lines: any(PEER_INVOCATION.search(x) for x in lines))
        match = next(m for m in map(PEER_INVOCATION.search, lines) if m is not None)
        return {"first": float(match["duration"])}
    finally:
        server.stop()


# -- the table -----------------------------------------------------------------------------------------
@dataclass
class Goal:
    text: str
    verdicts: list[bool | None]  # one per wsapp column it applies to; None: could not be judged

    def verdict(self) -> str:
        return " / ".join("n/a" if ok is None else ("met" if ok else "MISSED") for ok in self.verdicts)


@dataclass
class Row:
    name: str
    unit: str
    values: dict[str, float | None]
    goals: list[Goal]


@dataclass
class Table:
    columns: list[str]  # keys: wsapp isolations first, then ceiling, then the peers
    rows: list[Row] = field(default_factory=list)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (column, why "-") → rows
    absent: dict[str, str] = field(default_factory=dict)  # column → why it has no figure at all
    remarks: list[str] = field(default_factory=list)  # more lines under the table

    @property
    def wsapp(self) -> list[str]:
        return [c for c in self.columns if c in ISOLATIONS]

    @property
    def others(self) -> list[str]:
        return [c for c in self.columns if c not in ISOLATIONS]

    def add(
        self,
        name: str,
        unit: str,
        values: dict[str, float | None],
        goals: list[Goal] | None = None,
        reasons: dict[str, str] | None = None,
    ) -> None:
        row = Row(name, unit, {c: values.get(c) for c in self.columns}, goals or [])
        self.rows.append(row)
        fresh = []
        for column, why in (reasons or {}).items():
            if column in self.columns and column not in self.absent and row.values[column] is None:
                if (column, why) not in self.notes:
                    fresh.append(f"    {TITLES[column]}: {why}")
                self.notes.setdefault((column, why), []).append(name)
        cells = self.cells(row)
        shown = [f"{TITLES[c]} {cells[1 + i]}" for i, c in enumerate(self.wsapp)]
        at = 1 + len(self.wsapp)
        for c in self.others:
            shown.append(f"{TITLES[c]} {cells[at]} ({cells[at + 1]})")
            at += 2
        print(f"  {name}: {', '.join(shown)} {cells[-2]} {cells[-1]}".rstrip(), flush=True)
        for line in fresh:
            print(line, flush=True)

    def ratio(self, row: Row, column: str) -> str:
        other = row.values[column]
        parts = []
        for c in self.wsapp:
            mine = row.values[c]
            if mine is None or not other:
                parts.append("-")
            elif column == "ceiling":
                parts.append(f"{mine / other:.0%}")
            else:
                parts.append(f"{mine / other:.2f}×")
        return " / ".join(parts) if any(p != "-" for p in parts) else "-"

    def cells(self, row: Row) -> list[str]:
        out = [row.name, *(_fmt(row.values[c], row.unit) for c in self.wsapp)]
        for c in self.others:
            out += [_fmt(row.values[c], row.unit), self.ratio(row, c)]
        out.append("; ".join(g.text for g in row.goals))
        out.append("; ".join(g.verdict() for g in row.goals))
        return out

    def render(self) -> str:
        head = ["measure", *(TITLES[c] for c in self.wsapp)]
        for c in self.others:
            head += [TITLES[c], "ratio"]
        head += ["target", "verdict"]
        body = [self.cells(r) for r in self.rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(head), rule, *map(line, body)])

    def render_notes(self) -> str:
        lines = []
        if len(self.wsapp) > 1:
            lines.append(f"- ratio and verdict cells read {' / '.join(self.wsapp)}.")
        lines.append(
            "- ratio: wsapp ÷ the column before it (percent for the ceiling, × for serverless-offline)."
        )
        if any(c in PEERS for c in self.columns):
            lines.append(
                "- wsapp's connections are authorized (REQUEST authorizer on $connect) and stored (a DynamoDB"
                " row on connect, deleted on disconnect); serverless-offline's are neither (no authorizer,"
                " no store). It has no broadcast action or store, so broadcast and idle rows are not"
                " measured for it."
            )
        for column, why in self.absent.items():
            lines.append(f"- {TITLES[column]}: not measured, because {why}")
        if any("HTTP 502" in why for _, why in self.notes):
            lines.append(
                "- HTTP 502 on a handshake: serverless-offline rejects the connection when the $connect"
                " invocation fails or runs past the function's Timeout (10 s, as in wsapp's template); it"
                " starts one handler instance (a Python process, a Node.js worker thread) per concurrent"
                " invocation."
            )
        if "process" in self.wsapp:
            lines.append(
                "- RSS sums each process's resident memory; PSS shares a page among the processes that map"
                " it (process isolation's environments are forked from one fork server and share its pages)."
            )
        lines += [f"- {remark}" for remark in self.remarks]
        lines.append(f"- the servers' output: {LOGS.relative_to(ROOT)}/")
        for (column, why), rows in self.notes.items():
            where = rows[0] if len(rows) == 1 else f"{rows[0]} (and {len(rows) - 1} more rows)"
            lines.append(f"- {TITLES[column]}, {where}: - because {why}")
        return "\n".join(lines)


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


# -- the run -------------------------------------------------------------------------------------------
Measure = Callable[[str, Server], Awaitable[Any]]


@dataclass
class Bench:
    servers: dict[str, Server]
    down: dict[str, str]  # peer column → why it is out (not installed, did not start, exited)
    table: Table
    fresh: dict[str, Callable[[], Server]] = field(default_factory=dict)  # peer column → a new one
    restarts: dict[str, int] = field(default_factory=dict)  # peer column → how often it was restarted

    async def across(
        self, label: str, measure: Measure, keys: list[str] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """``measure`` on each server in turn: (results, why a peer has none). A failure of wsapp or of the
        ceiling ends the run (it is a bug to look at); a peer's is recorded and the run goes on."""
        results: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for key in keys if keys is not None else self.table.columns:
            if key in self.down or key not in self.servers:
                results[key], reasons[key] = None, self.down.get(key, "not started")
                continue
            server = self.servers[key]
            others = [s for k, s in self.servers.items() if k != key]
            for other in others:
                other.pause(True)
            try:
                await self._measure_one(key, server, label, measure, results, reasons)
            finally:
                for other in others:
                    other.pause(False)
        return results, reasons

    async def _measure_one(
        self,
        key: str,
        server: Server,
        label: str,
        measure: Measure,
        results: dict[str, Any],
        reasons: dict[str, str],
    ) -> None:
        if key not in PEERS:
            try:
                results[key] = await measure(key, server)
            except Exception as exc:
                raise RuntimeError(f"{server.name}, {label}: {exc}") from exc
            return
        try:
            results[key] = await asyncio.wait_for(measure(key, server), PEER_LIMIT)
        except Exception as exc:
            results[key] = None
            timed_out = isinstance(exc, TimeoutError)
            reasons[key] = f"no result within {PEER_LIMIT:g} s" if timed_out else _one_line(exc)
            await self.restart(key)

    async def restart(self, key: str) -> None:
        """A new serverless-offline after a failed measurement, so the next figure is of a healthy one.

        A handler that times out is killed (its Python process, its worker thread) but its instance stays
        in serverless-offline's pool, idle: every later invocation routed to it waits out the Timeout
        too. Handler processes still starting would also load the machine under the next server's
        figures. So the peer is stopped as a whole and launched again.
        """
        self.servers[key].stop()
        if key not in self.fresh:
            self.down[key] = f"{TITLES[key]} failed and cannot be restarted"
            return
        self.servers[key] = self.fresh[key]()
        self.restarts[key] = self.restarts.get(key, 0) + 1
        try:
            await first_reply_after_launch(self.servers[key])
        except Exception as exc:
            self.down[key] = f"restarted after a failure, it did not answer: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def absolute(bench: Bench, text: str, values: dict[str, Any], check: Callable[[float], bool]) -> Goal:
    """A target every wsapp column is held to."""
    return Goal(text, [None if values.get(c) is None else check(values[c]) for c in bench.table.wsapp])


def versus(bench: Bench, isolation: str, key: str, factor: float, values: dict[str, Any]) -> list[Goal]:
    """wsapp with ``isolation`` at ``factor`` times the peer ``key``'s figure or more."""
    if isolation not in bench.table.wsapp or key not in bench.table.columns:
        return []
    mine, theirs = values.get(isolation), values.get(key)
    ok = None if mine is None or not theirs else mine >= factor * theirs
    return [Goal(f"{isolation} ≥ {factor:g}× {key}", [ok])]


async def measure(args: argparse.Namespace) -> Table:
    duration = 1.0 if args.quick else 3.0
    warm = 0.3 if args.quick else 1.0
    idle_count = 1000 if args.quick else 10_000
    isolations = list(ISOLATIONS) if args.both_isolations else [args.isolation]
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    logs = LOGS
    down: dict[str, str] = {}
    servers: dict[str, Server] = {i: emulator(free_port(), i) for i in isolations}
    servers["ceiling"] = ceiling(free_port())
    peers = [] if args.no_peers else list(PEERS)
    if peers:
        reason = serverless_offline.ensure_installed()
        if reason is None:
            shown = ", ".join(f"{k} {v}" for k, v in serverless_offline.versions().items())
            print(f"peer: {shown}", flush=True)
        for key in peers:
            if reason is None:
                servers[key] = peer(key, free_port(), logs / f"{key}.log")
            else:
                down[key] = reason
    fresh = {
        key: lambda key=key: peer(key, free_port(), logs / f"{key}-{bench.restarts.get(key, 0) + 1}.log")
        for key in servers
        if key in PEERS
    }
    bench = Bench(servers, down, Table([*isolations, "ceiling", *peers]), fresh)
    table = bench.table
    table.absent.update(down)  # not installed: nothing to measure
    try:
        await measure_servers(bench, args, duration, warm, idle_count)
    finally:
        for server in bench.servers.values():
            server.stop()
    for key, count in bench.restarts.items():
        table.remarks.append(
            f"{TITLES[key]} was restarted {count}× after a failed measurement (see Bench.restart), so a"
            " failure does not carry over into the next figure."
        )
    if "process" in isolations:
        await measure_cold_starts(bench, peers, logs)
    else:
        table.remarks.append("cold starts: measured only in runs with process isolation.")
    return table


async def measure_servers(
    bench: Bench, args: argparse.Namespace, duration: float, warm: float, idle_count: int
) -> None:
    table = bench.table
    launch, why = await bench.across("first polo after launch", lambda k, s: first_reply_after_launch(s))
    print("first reply after launch", flush=True)
    table.add(
        "first polo after launch",
        "s",
        launch,
        [absolute(bench, "≤ 3 s", launch, lambda v: v <= 3.0)],
        why,
    )
    for route, message, expect in (
        ("marco→polo", '{"action":"marco"}', "polo"),
        ("two-way ping→pong", '{"action":"ping"}', "pong"),
    ):
        for clients in (1, 10, 100):
            reports, why = await bench.across(
                f"{route}, {clients} conn",
                lambda k, s, c=clients, m=message, e=expect: load(s, c, duration, warm, m, e),
            )
            rate = {k: (r.throughput if r else None) for k, r in reports.items()}
            goals: list[Goal] = []
            if route.startswith("marco"):
                if clients == 10:
                    goals.append(absolute(bench, "≥ 1,000 msg/s", rate, lambda v: v >= 1000))
                    goals += versus(bench, "process", "py", 1.5, rate)
                    goals += versus(bench, "thread", "py", 2.0, rate)
                if clients == 1:
                    goals += versus(bench, "process", "py", 2.0, rate)
            elif clients <= 10:
                top = rate["ceiling"]
                goals.append(absolute(bench, "≥ 50% of ceiling", rate, lambda v, t=top: v >= t / 2))
            table.add(f"{route} msg/s, {clients} conn", "msg/s", rate, goals, why)
            for q in (50, 95, 99):
                values = {k: (r.percentile(q) if r else None) for k, r in reports.items()}
                p_goals = []
                if route.startswith("marco") and clients == 1 and q == 50:
                    p_goals.append(absolute(bench, "≤ 1.5 ms", values, lambda v: v <= 0.0015))
                table.add(f"{route} p{q}, {clients} conn", "ms", values, p_goals, why)
    count = 200 if args.quick else 500
    for in_flight, name in ((1, "one at a time"), (100, "100 in flight")):
        rates, why = await bench.across(
            f"connections, {name}", lambda k, s, f=in_flight: connection_rate(s.url, count, f)
        )
        goals = [absolute(bench, "≥ 500/s", rates, lambda v: v >= 500)] if in_flight == 100 else []
        table.add(f"new authorized connections/s, {name}", "conn/s", rates, goals, why)
    wsapp_and_ceiling = [*table.wsapp, "ceiling"]
    fan, _ = await bench.across("broadcast", lambda k, s: broadcast(s.url, 1000), wsapp_and_ceiling)
    table.add("broadcast to 1,000 connections", "s", fan, [absolute(bench, "≤ 2 s", fan, lambda v: v <= 2.0)])
    held, _ = await bench.across("idle", lambda k, s: idle(s, idle_count, 2.0), wsapp_and_ceiling)
    rss = {k: h["rss_mb"] for k, h in held.items()}
    # The whole process tree: process isolation's warm environments count (issue 10: 400 MB), thread
    # isolation is one process (300 MB).
    ceilings = {"process": 400, "thread": 300}
    fine = {
        k: h["rss_mb"] <= ceilings.get(k, 300) and h["dropped"] == 0 and h["unanswered"] == 0
        for k, h in held.items()
    }
    shown = " / ".join(f"{k} ≤ {ceilings[k]} MB" for k in table.wsapp)
    table.add(
        f"{idle_count:,} idle connections: RSS",
        "MB",
        rss,
        [Goal(f"{shown}, none dropped", [fine[c] for c in table.wsapp])],
    )
    table.add(f"{idle_count:,} idle connections: PSS", "MB", {k: h["pss_mb"] for k, h in held.items()})
    table.add(
        f"{idle_count:,} idle connections: per connection",
        "KiB",
        {k: h["kib_per_connection"] for k, h in held.items()},
    )
    table.add(
        f"{idle_count:,} idle: dropped + unanswered",
        "conn",
        {k: h["dropped"] + h["unanswered"] for k, h in held.items()},
    )
    procs = {k: h["processes"] for k, h in held.items() if k != "ceiling"}
    # Thread isolation runs everything in the emulator's process; process isolation adds one process per
    # execution environment, at most --concurrency (10) for each of the template's two functions, and the
    # fork server the Python environments are forked from.
    limits = {"thread": 1, "process": 1 + 2 * 10 + 1}
    table.add(
        f"{idle_count:,} idle: processes in the emulator's tree",
        "proc",
        procs,
        [
            Goal(
                " / ".join(f"≤ {limits[c]}" for c in table.wsapp),
                [procs[c] <= limits[c] for c in table.wsapp],
            )
        ],
    )


async def measure_cold_starts(bench: Bench, peers: list[str], logs: Path) -> None:
    """Median of COLD_STARTS fresh launches each, after the servers above have stopped."""
    print(f"cold starts ({COLD_STARTS} fresh launches each)", flush=True)
    runs: dict[str, list[dict[str, float]]] = {"process": []}
    reasons: dict[str, str] = {}
    try:
        for i in range(COLD_STARTS):
            runs["process"].append(await wsapp_cold_start(logs / f"cold-wsapp-{i}.log"))
    except Exception as exc:  # reported in the table's notes: the figures above still count
        reasons["process"] = _one_line(exc)
    for key in peers:
        if key not in bench.servers:  # not installed
            reasons[key] = bench.down[key]
            continue
        runs[key] = []
        try:
            for i in range(COLD_STARTS):
                runs[key].append(
                    await asyncio.wait_for(peer_cold_start(key, logs / f"cold-{key}-{i}.log"), PEER_LIMIT)
                )
        except Exception as exc:
            reasons[key] = _one_line(exc)
            runs.pop(key)

    def median(key: str, field_: str) -> float | None:
        found = [r[field_] / 1000 for r in runs.get(key, []) if field_ in r]
        return statistics.median(found) if found else None

    first = {k: median(k, "first") for k in ("process", *peers)}
    bench.table.add(
        f"cold start: spawn → first response (median of {COLD_STARTS})",
        "ms",
        first,
        [Goal("process ≤ 250 ms", [None if first["process"] is None else first["process"] <= 0.25])],
        reasons,
    )
    bench.table.add("cold start: of which Init Duration", "ms", {"process": median("process", "first_init")})
    socket_fn = {"process": median("process", "socket_fn")}
    bench.table.add("cold start: WebSocketFunction, spawn → first response", "ms", socket_fn)
    on_demand = {"process": median("process", "on_demand")}
    bench.table.add(
        "cold start: environment started on demand, spawn → first response",
        "ms",
        on_demand,
        [Goal("process ≤ 250 ms", [None if on_demand["process"] is None else on_demand["process"] <= 0.25])],
    )
    bench.table.remarks.append(
        "cold start, wsapp: the first REPORT line carrying Init Duration in a fresh `wsapp local`'s function"
        " log (the AuthorizerFunction's environment, started at launch beside the WebSocketFunction's):"
        " Init Duration + that invocation's Duration; on demand: the same for the first environment"
        " started later, when 2 connections arrive at once. serverless-offline: its first invocation's"
        " Duration, which includes starting the handler's process (Python) or worker thread (Node.js)."
    )


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts and shorter runs")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--isolation", choices=ISOLATIONS, default="process", help="passed to wsapp local (default: process)"
    )
    parser.add_argument(
        "--both-isolations", action="store_true", help="measure wsapp with process and with thread isolation"
    )
    parser.add_argument("--no-peers", action="store_true", help="leave serverless-offline out")
    args = parser.parse_args()
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every server this run started is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {_load_average()}", flush=True)
    try:
        table = asyncio.run(measure(args))
    except KeyboardInterrupt:
        sys.exit("bench interrupted: every server it started is stopped")
    table.remarks.append(f"machine at the end: {_load_average()} (the bench's own processes count too)")
    print()
    print(table.render())
    print()
    print(table.render_notes())
    if args.markdown:
        args.markdown.write_text(table.render() + "\n\n" + table.render_notes() + "\n")


if __name__ == "__main__":
    main()
