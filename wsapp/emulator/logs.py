"""Where every part of the emulator writes its log lines (the local stand-in for CloudWatch Logs).

Function output, platform lines (START/END/REPORT) and the gateway's own lines all go to one
:class:`LogSink`, which prints them and keeps the most recent ones for ``gateway.logs``. A caller may
also collect one invocation's lines (the Invoke API's ``LogType: Tail``): every line of an invocation
starts with ``[{function} {request id}] ``.
"""

from __future__ import annotations

import collections
import threading
from typing import IO


class LogSink:
    """Keeps the last ``keep`` lines (for ``gateway.logs``) and echoes them to ``stream`` if given."""

    def __init__(self, stream: IO[str] | None, keep: int = 5000) -> None:
        self.stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._watched: dict[str, list[str]] = {}  # "{function} {request id}" → its lines, unprefixed

    @property
    def active(self) -> bool:
        """False when lines are neither shown, kept nor watched (so callers need not format them)."""
        return self.stream is not None or self.lines.maxlen != 0 or bool(self._watched)

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
        with self._lock:
            lines = text.splitlines()
            self.lines.extend(lines)
            if self._watched:
                for line in lines:
                    end = line.find("] ") if line.startswith("[") else -1
                    found = self._watched.get(line[1:end]) if end > 0 else None
                    if found is not None:
                        found.append(line[end + 2 :])
            if self.stream is not None:
                self.stream.write(text)
                self.stream.flush()
