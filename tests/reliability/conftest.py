"""Reliability suite: load, faults, hostile input, security defaults (issue 7).

Every test records what it did in :data:`FIGURES`; at the end of the session the figures table is
written to ``build/reliability-figures.md`` and printed in the terminal summary. README's
"Reliability" section is a copy of that file from a real run.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))  # emukit: shared helpers

REPO = Path(__file__).resolve().parents[2]
# One file per isolation mode: `python3 dev.py test` runs this directory under both.
_ISOLATION = os.environ.get("WSAPP_ISOLATION") or "process"
_SUFFIX = "" if _ISOLATION == "process" else f"-{_ISOLATION}"
FIGURES_FILE = REPO / "build" / f"reliability-figures{_SUFFIX}.md"
START_TIMEOUT = 60.0  # seconds a gateway process may take to print its banner


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--churn-seconds",
        type=float,
        default=20.0,
        help="how long the connect/message/disconnect churn runs (the full soak: 600)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "churn: runs for --churn-seconds; timed out at that plus 120 s")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = float(config.getoption("churn_seconds", default=20.0))
    for item in items:
        if item.get_closest_marker("churn") is not None:
            item.add_marker(pytest.mark.timeout(seconds + 120))


@pytest.fixture(scope="session")
def churn_seconds(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("churn_seconds", default=20.0))


# -- the figures -------------------------------------------------------------------------------------


@dataclass
class Figures:
    load: list[dict[str, Any]] = field(default_factory=list)
    faults: list[tuple[str, str, str, str]] = field(default_factory=list)  # fault, outcome, connection, test
    inputs: dict[str, list[Any]] = field(default_factory=dict)  # kind → [tried, outcome]
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # security default, result, test
    lost: int = 0

    def record_load(self, scenario: str, **values: Any) -> None:
        self.load.append({"scenario": scenario, **values})
        self.lost += int(values.get("lost", 0))

    def fault(self, fault: str, outcome: str, connection: str, test: str) -> None:
        self.faults.append((fault, outcome, connection, test))

    def security(self, check: str, result: str, test: str) -> None:
        self.checks.append((check, result, test))

    def tried(self, kind: str, count: int, outcome: str) -> None:
        entry = self.inputs.setdefault(kind, [0, outcome])
        entry[0] += count

    def empty(self) -> bool:
        return not (self.load or self.faults or self.inputs or self.checks)

    def render(self) -> str:
        out = ["### Load held", ""]
        out += [
            "| scenario | connections | messages sent | answered exactly once | lost | out of order | errors "
            "| other | wall time |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for row in self.load:
            out.append(
                f"| {row['scenario']} | {row.get('connections', '')} | {_n(row.get('sent'))} "
                f"| {_n(row.get('answered'))} | {_n(row.get('lost'))} | {_n(row.get('out_of_order'))} "
                f"| {_n(row.get('errors'))} | {row.get('other', '')} | {row.get('seconds', 0):.1f} s |"
            )
        out += ["", f"### Faults survived: {len(self.faults)}", ""]
        out += ["| fault | what the client sees (as on AWS) | connection | test |"]
        out += ["| --- | --- | --- | --- |"]
        out += [f"| {f} | {o} | {c} | `{t}` |" for f, o, c, t in self.faults]
        out += ["", "Also covered by `tests/emulator` (not repeated here):", ""]
        out += [f"- {line}" for line in COVERED_ELSEWHERE]
        total = sum(tried for tried, _ in self.inputs.values())
        out += ["", f"### Hostile inputs tried: {total:,}", ""]
        out += ["| input | tried | outcome |", "| --- | ---: | --- |"]
        out += [f"| {kind} | {tried:,} | {outcome} |" for kind, (tried, outcome) in self.inputs.items()]
        out += ["", "### Security defaults", "", "| default | holds | test |", "| --- | --- | --- |"]
        out += [f"| {c} | {r} | `{t}` |" for c, r, t in self.checks]
        out += ["", f"### Messages lost: {self.lost}", ""]
        return "\n".join(out)


def _n(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{value:,}" if isinstance(value, int) else str(value)


COVERED_ELSEWHERE = (
    "handler raises / returns `None` / returns extra keys → `Internal server error` frame, connection "
    "kept (`tests/emulator/test_messages.py`)",
    "integration timeout → `Endpoint request timed out` frame, connection kept (`test_messages.py`)",
    "authorizer raises / times out / returns a non-policy → handshake 500, `$connect` not invoked "
    "(`test_handshake.py::test_authorizer_failure_is_500`)",
    "`$connect` raises → 502, times out → 504 (`test_handshake.py`, `test_limits.py`)",
    "client drops TCP without a close frame → `$disconnect` with 1006 (`test_limits.py`)",
    "`@connections` on an unknown id → 410 with an empty body (`test_connections_api.py`)",
)

FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    if FIGURES.empty():
        return
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_FILE.write_text(FIGURES.render())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES.empty():
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(FIGURES.render())
    terminalreporter.write_line(f"(written to {FIGURES_FILE.relative_to(REPO)})")


# -- a gateway in a process of its own ---------------------------------------------------------------


class Served:
    """A gateway process (``wsapp local`` or ``serve.py``): its URLs, its memory, a bounded stop."""

    def __init__(self, argv: list[str]) -> None:
        self.stderr = tempfile.TemporaryFile(mode="w+")  # a file: a full pipe would stall the server
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.url = self.management_endpoint = ""
        self.output: list[str] = []  # every line the process printed on stdout
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.url and self.management_endpoint):
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise AssertionError(
                    f"no banner within {START_TIMEOUT:g} s: {self.errors()[-2000:]}"
                ) from None
            if not line:
                self.stop()
                raise AssertionError(f"the gateway process exited: {self.errors()[-2000:]}")
            if line.startswith("WebSocket URL: "):
                self.url = line.split(": ", 1)[1].strip()
            elif line.startswith("Management endpoint: "):
                self.management_endpoint = line.split(": ", 1)[1].strip()

    def _read(self, lines: queue.SimpleQueue[str]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put("")

    def errors(self) -> str:
        """What the process wrote to stderr so far."""
        self.stderr.seek(0)
        return self.stderr.read()

    def rss(self) -> int:
        """Resident bytes of the gateway process (and any children)."""
        root = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

    def stop(self) -> int | None:
        """SIGTERM (both stop cleanly, closing every connection); at most 20 s, then kill."""
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return self.proc.returncode


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(template=..., limits={...}, behaviour={...})`` → a :class:`Served` gateway process."""
    started: list[Served] = []

    def start(**options: Any) -> Served:
        options.setdefault("template", str(REPO / "template.yaml"))
        served = Served([sys.executable, str(Path(__file__).with_name("serve.py")), json.dumps(options)])
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def wsapp_local() -> Iterator[Any]:
    """``wsapp_local("--connect-rate", "0")`` → ``wsapp local --port 0 --quiet ...`` as a :class:`Served`."""
    started: list[Served] = []

    def start(*args: str, quiet: bool = True) -> Served:
        argv = [sys.executable, "-m", "wsapp", "local", "--port", "0", *(["--quiet"] if quiet else []), *args]
        served = Served(argv)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
