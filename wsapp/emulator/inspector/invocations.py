"""Functions as the gateway calls them, each invocation recorded with its event, outcome and log lines.

A :class:`RecordedFunction` stands in for a function's pool in the gateway's runtimes: it picks the
request id itself (with the pool's own generator, so seeded ids stay the same), watches that request's
lines in the log sink, and records the invocation when its future resolves. A replay goes through the
same ``submit`` the gateway uses, so it is one more invocation like the others.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from wsapp.emulator.awslambda.invocation import Function, Invocation
from wsapp.emulator.inspector.recorder import Recorder
from wsapp.emulator.logs import LogSink


class RecordedFunction:
    def __init__(self, inner: Function, logical_id: str, recorder: Recorder, sink: LogSink) -> None:
        self.inner, self.logical_id, self.recorder, self.sink = inner, logical_id, recorder, sink
        self._request_ids = getattr(inner, "request_ids", None)
        self._shares_events = hasattr(inner, "invoke_here")  # thread isolation's FunctionRuntime
        if hasattr(inner, "on_deliver"):
            inner.on_deliver = recorder.delivered  # type: ignore[attr-defined]

    def submit(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        wait: float | None = None,
        invoked_arn: str | None = None,
        scale: bool = False,
        replay_of: int | None = None,
    ) -> asyncio.Future[Invocation]:
        if request_id is None and self._request_ids is not None:
            request_id = self._request_ids()
        if request_id is not None:
            self.sink.watch(self.logical_id, request_id)
        started = time.time() * 1000
        if self._shares_events:
            # A shallow copy: a handler in this process (thread isolation) may replace its fields.
            kept = dict(event) if isinstance(event, Mapping) else event
        else:
            # The pool sends the event serialised: serialise it here, once, and keep those bytes. Kept
            # dicts (thousands of containers in the ring) lengthened every garbage collection.
            kept = event if isinstance(event, bytes) else json.dumps(event).encode()
        future = self.inner.submit(
            kept, request_id=request_id, wait=wait, invoked_arn=invoked_arn, scale=scale
        )
        future.add_done_callback(lambda f: self._record(f, event, kept, started, replay_of))
        return future

    def _record(
        self,
        future: asyncio.Future[Invocation],
        event: Any,
        kept: Any,
        started: float,
        replay_of: int | None,
    ) -> None:
        if future.cancelled():
            return
        result = future.result()
        logs = self.sink.unwatch(self.logical_id, result.request_id)
        self.recorder.invocation(
            self.logical_id, event, result, started=started, logs=logs, replay_of=replay_of, kept=kept
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # the pool's counters and settings, for whoever reads them


class RecordedRuntimes(Mapping[str, RecordedFunction]):
    """The gateway's view of the functions, each wrapped on first use (the pools start after this is
    made, and the Lambda service may add them as it starts)."""

    def __init__(self, runtimes: Mapping[str, Function], recorder: Recorder, sink: LogSink) -> None:
        self.runtimes, self.recorder, self.sink = runtimes, recorder, sink
        self._wrapped: dict[str, RecordedFunction] = {}

    def __getitem__(self, name: str) -> RecordedFunction:
        found = self._wrapped.get(name)
        if found is None:
            found = RecordedFunction(self.runtimes[name], name, self.recorder, self.sink)
            self._wrapped[name] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.runtimes)

    def __len__(self) -> int:
        return len(self.runtimes)
