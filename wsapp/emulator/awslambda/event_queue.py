"""Asynchronous (``Event``) invocations: queued, run, retried as Lambda runs them [DG23 invocation-async].

The caller gets 202 at once; Lambda runs the event later. When the function returns an error (the
handler raised, timed out, its runtime exited) Lambda retries it twice more by default
(``MaximumRetryAttempts`` 0-2 of the function's ``EventInvokeConfig``), with the same request id; a
throttled event goes back to the queue with a backoff and does not count as a retry; an event older
than ``MaximumEventAgeInSeconds`` (6 hours by default) is dropped. Destinations and dead-letter queues
are not emulated: a dropped event is one log line.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from wsapp.emulator.awslambda.invocation import Function, Invocation
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import AsyncConfig, FunctionSpec


@dataclass(frozen=True)
class AsyncInvoke:
    """The knobs of Lambda's event queue. AWS documents each value; the retry delays are shortened."""

    # AWS waits 1 minute before the first retry and 2 before the second [DG23 invocation-async]; a local
    # run waits 1 s and 2 s so a failing worker's retries show up while you watch (UNCONFIRMED whether
    # AWS adds jitter; its delays are documented as approximate).
    retry_delays: tuple[float, ...] = (1.0, 2.0)
    max_retries: int = 2  # MaximumRetryAttempts' default [DOC API_PutFunctionEventInvokeConfig]
    max_event_age: float = 21600.0  # MaximumEventAgeInSeconds' default, 6 hours [DOC]
    # Throttled events return to the queue; backoff from 1 s doubling up to 5 minutes [DG23].
    throttle_backoff: tuple[float, float] = (1.0, 300.0)
    # Event payloads: 1 MB since 2025 [DOC API_Invoke]; 262144 (256 KB) for the older limit.
    payload_limit: int = 1024 * 1024


class EventQueue:
    """The account's event queue: one task per queued event, on the gateway's loop."""

    def __init__(self, settings: AsyncInvoke, sink: LogSink) -> None:
        self.settings = settings
        self.sink = sink
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def put(
        self,
        function: Function,
        spec: FunctionSpec,
        event: Any,
        request_id: str,
        arn: str,
        config: AsyncConfig | None,
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._run(function, spec, event, request_id, arn, config)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        function: Function,
        spec: FunctionSpec,
        event: Any,
        request_id: str,
        arn: str,
        config: AsyncConfig | None,
    ) -> None:
        settings = self.settings
        retries = settings.max_retries if config is None or config.max_retries is None else config.max_retries
        max_age = (
            settings.max_event_age if config is None or config.max_event_age is None else config.max_event_age
        )
        queued = time.monotonic()
        backoff = settings.throttle_backoff[0]
        failures = 0
        while not self._closing:
            result = await function.submit(event, request_id=request_id, invoked_arn=arn)
            if result.throttled:
                if spec.reserved_concurrency == 0:
                    return self._drop(
                        spec, request_id, "ZeroReservedConcurrency", "reserved concurrency is 0"
                    )
                delay, backoff = backoff, min(backoff * 2, settings.throttle_backoff[1])
            elif result.ok or _stopped(result):
                return None
            elif failures >= retries:
                attempts = failures + 1
                return self._drop(spec, request_id, "RetriesExhausted", f"{attempts} attempts failed")
            else:
                delay = settings.retry_delays[min(failures, len(settings.retry_delays) - 1)]
                failures += 1
            if time.monotonic() - queued + delay > max_age:
                return self._drop(spec, request_id, "EventAgeExceeded", f"older than {max_age:g} s")
            await asyncio.sleep(delay)
        return None

    def _drop(self, spec: FunctionSpec, request_id: str, condition: str, why: str) -> None:
        # The condition a destination's record would carry [AWS-REC §6]; no destination runs locally.
        self.sink.emit(f"[{spec.logical_id} {request_id}] async invocation dropped ({condition}): {why}\n")

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _stopped(result: Invocation) -> bool:
    return result.error_type == "ServiceException"  # the emulator is stopping (outcomes.stopped)
