"""Where every part of the emulator writes its log lines (the local stand-in for CloudWatch Logs).

Function output, platform lines (START/END/REPORT) and the gateway's own lines all go to one
:class:`LogSink`, which prints them and keeps the most recent ones for ``gateway.logs``.
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

    @property
    def active(self) -> bool:
        """False when lines are neither shown nor kept (so callers need not format them)."""
        return self.stream is not None or self.lines.maxlen != 0

    def emit(self, text: str) -> None:
        if not self.active:
            return  # neither shown nor kept
        with self._lock:
            self.lines.extend(text.splitlines())
            if self.stream is not None:
                self.stream.write(text)
                self.stream.flush()
