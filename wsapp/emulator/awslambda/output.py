"""Function output, prefixed with function name and request id, as in a Lambda log stream.

While the emulator runs, ``sys.stdout``/``sys.stderr`` route each write made inside an invocation
to the emulator's :class:`LogSink`; writes from anywhere else pass through untouched.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import IO, Any

from wsapp.emulator.logs import LogSink

_local = threading.local()


class _Invocation:
    def __init__(self, sink: LogSink, prefix: str) -> None:
        self.sink, self.prefix, self.partial, self.started = sink, prefix, "", False


def begin(sink: LogSink, function: str, request_id: str) -> None:
    _local.current = _Invocation(sink, f"[{function} {request_id}] ")
    if _count and not (isinstance(sys.stdout, RoutedStream) and isinstance(sys.stderr, RoutedStream)):
        _rewrap()  # someone replaced the streams since install() (pytest's capture does, between tests)


def end() -> None:
    current = getattr(_local, "current", None)
    if current is not None and current.partial:
        current.sink.emit(("" if current.started else current.prefix) + current.partial + "\n")
    _local.current = None


class RoutedStream:
    def __init__(self, original: IO[str]) -> None:
        self.original = original

    def write(self, text: str) -> int:
        current: _Invocation | None = getattr(_local, "current", None)
        if current is None:
            return self.original.write(text)
        data = current.partial + text
        *lines, current.partial = data.split("\n")
        if lines:
            first = ("" if current.started else current.prefix) + lines[0]
            rest = [current.prefix + line for line in lines[1:]]
            current.sink.emit("\n".join([first, *rest]) + "\n")
            current.started = False
        return len(text)

    def flush(self) -> None:
        current: _Invocation | None = getattr(_local, "current", None)
        if current is not None and current.partial:
            # A prompt without a newline (``breakpoint()``'s ``(Pdb)``) must show before input is read.
            current.sink.emit(("" if current.started else current.prefix) + current.partial)
            current.partial, current.started = "", True
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


_lock = threading.Lock()
_count = 0
_swapped: list[tuple[logging.StreamHandler[Any], IO[str]]] = []


def install() -> None:
    """Route stdout/stderr (reference-counted), and every logging stream handler's stream.

    A handler created before the gateway started (Powertools binds ``sys.stdout`` when the logger is
    first made; under pytest that is a capture stream of some earlier test) keeps writing to its own
    stream outside invocations and to the invocation's log inside them.
    """
    global _count
    with _lock:
        _count += 1
        originals: dict[int, str] = {}
        if _count == 1:
            originals = {id(sys.stdout): "stdout", id(sys.stderr): "stderr"}
            sys.stdout = RoutedStream(sys.stdout)  # type: ignore[assignment]
            sys.stderr = RoutedStream(sys.stderr)  # type: ignore[assignment]
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
            for handler in getattr(logger, "handlers", []):
                if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
                    continue
                stream = handler.stream
                if stream is None or isinstance(stream, RoutedStream):
                    continue
                _swapped.append((handler, stream))
                known = originals.get(id(stream))
                handler.stream = getattr(sys, known) if known else RoutedStream(stream)


def _rewrap() -> None:
    with _lock:
        if _count and not isinstance(sys.stdout, RoutedStream):
            sys.stdout = RoutedStream(sys.stdout)  # type: ignore[assignment]
        if _count and not isinstance(sys.stderr, RoutedStream):
            sys.stderr = RoutedStream(sys.stderr)  # type: ignore[assignment]


def uninstall() -> None:
    global _count
    with _lock:
        _count -= 1
        if _count > 0:
            return
        for handler, stream in _swapped:
            handler.stream = stream
        _swapped.clear()
        if isinstance(sys.stdout, RoutedStream):
            sys.stdout = sys.stdout.original
        if isinstance(sys.stderr, RoutedStream):
            sys.stderr = sys.stderr.original
