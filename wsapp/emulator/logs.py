"""Where every part of the emulator writes its log lines (the local stand-in for CloudWatch Logs).

Function output, platform lines (START/END/REPORT) and the gateway's own lines all go to one
:class:`LogSink`, which prints them and keeps the most recent ones for ``gateway.logs``. A caller may
also collect one invocation's lines (the Invoke API's ``LogType: Tail``): every line of an invocation
starts with ``[{function} {request id}] ``.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any


@dataclass(frozen=True)
class LogLine:
    """One kept line: ``function`` and ``request_id`` when it came from an invocation, its text, and the
    JSON object it carries (a structured log record, e.g. Powertools'), if it is one."""

    function: str | None
    request_id: str | None
    text: str
    record: Mapping[str, Any] | None
    raw: str  # the line as kept, prefix included

    @classmethod
    def parse(cls, line: str) -> LogLine:
        function = request_id = None
        text = line
        end = line.find("] ") if line.startswith("[") else -1
        if end > 0:
            function, _, request_id = line[1:end].partition(" ")
            text = line[end + 2 :]
        record = None
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            record = parsed if isinstance(parsed, dict) else None
        return cls(function, request_id or None, text, record, line)


@dataclass(frozen=True)
class Report:
    """An invocation's ``REPORT`` line, as Lambda writes it (and CloudWatch Logs Insights parses it):
    ``init_ms`` only on an environment's first invocation — a cold start."""

    function: str | None
    request_id: str
    duration_ms: float
    billed_ms: float
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None

    @classmethod
    def parse(cls, line: LogLine) -> Report | None:
        if not line.text.startswith("REPORT RequestId: "):
            return None
        fields = dict(f.split(": ", 1) for f in line.text.split("\t") if ": " in f)

        def number(name: str) -> float:
            return float(fields[name].split()[0])

        init = fields.get("Init Duration")
        return cls(
            function=line.function,
            request_id=fields["REPORT RequestId"],
            duration_ms=number("Duration"),
            billed_ms=number("Billed Duration"),
            memory_mb=int(number("Memory Size")),
            max_memory_mb=int(number("Max Memory Used")),
            init_ms=float(init.split()[0]) if init else None,
        )


def matches(record: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    return all(key in record and record[key] == value for key, value in fields.items())


class LogSink:
    """Keeps the last ``keep`` lines (for ``gateway.logs``) and echoes them to ``stream`` if given."""

    def __init__(self, stream: IO[str] | None, keep: int = 5000) -> None:
        self.stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # waiters wake on every emit, never poll
        self._emitted = 0  # lines ever kept, past the deque's bound too: what a waiter has not seen yet
        self._watched: dict[str, list[str]] = {}  # "{function} {request id}" → its lines, unprefixed

    @property
    def shown(self) -> bool:
        """True when lines are echoed or kept (a watcher alone does not need them formatted)."""
        return self.stream is not None or self.lines.maxlen != 0

    @property
    def active(self) -> bool:
        """False when lines are neither shown, kept nor watched (so callers need not format them)."""
        return self.shown or bool(self._watched)

    def watch(self, function: str, request_id: str) -> None:
        """Start collecting the lines of one invocation (until :meth:`unwatch`)."""
        with self._lock:
            self._watched[f"{function} {request_id}"] = []

    def unwatch(self, function: str, request_id: str) -> list[str]:
        """Stop collecting; the invocation's lines without their prefix."""
        with self._lock:
            return self._watched.pop(f"{function} {request_id}", [])

    def emit(self, text: str) -> None:
        if not self.active:
            return  # neither shown, kept nor watched
        lines = text.splitlines()
        with self._lock:
            if self._watched:
                for line in lines:
                    end = line.find("] ") if line.startswith("[") else -1
                    found = self._watched.get(line[1:end]) if end > 0 else None
                    if found is not None:
                        found.append(line[end + 2 :])
            self._show(text, lines)

    def emit_for(self, source: str, request_id: str | None, lines: list[str]) -> None:
        """Whole lines of one source (a function, and the request it serves, if any): handed to that
        request's watcher as they are, and prefixed ``[source request]`` only if shown or kept."""
        key = f"{source} {request_id}" if request_id else source
        # dict.get and list.extend are atomic: a watcher's list is found and filled without the lock.
        found = self._watched.get(key) if request_id is not None else None
        if not self.shown:
            if found is not None:
                found.extend(lines)
            return
        prefixed = [f"[{key}] {line}" for line in lines]
        with self._lock:
            if found is not None:
                found.extend(lines)
            self._show("\n".join(prefixed) + "\n", prefixed)

    def _show(self, text: str, lines: list[str]) -> None:
        """Keep, wake the waiters and echo (the lock held)."""
        self.lines.extend(lines)
        self._emitted += len(lines)
        self._arrived.notify_all()
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()

    def parsed(self) -> list[LogLine]:
        with self._lock:
            lines = list(self.lines)
        return [LogLine.parse(line) for line in lines]

    def wait_for(self, found: Callable[[list[LogLine]], Any], timeout: float) -> Any:
        """Block until ``found(lines)`` is truthy (checked at once and after every new line); return it.

        Each line is parsed once, outside the lock the emitting threads take, and only lines that are
        new since the last check; ``found`` gets the kept lines so far. Raises TimeoutError after
        ``timeout`` seconds, with how many lines were kept by then.
        """
        deadline = time.monotonic() + timeout
        parsed: collections.deque[LogLine] = collections.deque(maxlen=self.lines.maxlen)
        seen = 0
        while True:
            with self._lock:
                new = min(self._emitted - seen, len(self.lines))
                fresh = list(itertools.islice(self.lines, len(self.lines) - new, None)) if new else []
                seen = self._emitted
            parsed.extend(map(LogLine.parse, fresh))
            answer = found(list(parsed))
            if answer:
                return answer
            with self._arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"not logged within {timeout:g} s ({len(self.lines)} lines kept)")
                if self._emitted == seen:  # nothing arrived while ``found`` ran
                    self._arrived.wait(left)
