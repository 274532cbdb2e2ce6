"""Event sources: what makes the Lambda service invoke a function other than a direct Invoke.

Polled by Lambda (event source mappings, one module each, following its DG page):

- ``shards.py``: DynamoDB streams [DG: "Using AWS Lambda with Amazon DynamoDB"] and Kinesis data
  streams [DG: "Using Lambda to process records from Amazon Kinesis Data Streams"]: each shard polled,
  ``BatchSize`` records (default 100) in one synchronous invocation, a failed batch retried (the shard
  waits) until ``MaximumRetryAttempts``.
- ``sqs.py``: an SQS queue [DG: "Using Lambda with Amazon SQS"]: long-polled, up to ``BatchSize``
  messages (default 10), deleted when the function succeeds, left to the visibility timeout when not.

Pushed to Lambda, invoked asynchronously through the event queue (``pushed.py``): SNS subscriptions
[DG: "Invoking Lambda functions with Amazon SNS notifications"] and EventBridge rule targets and
schedules [DG: "Using Lambda with EventBridge"].
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from wsapp.emulator.awslambda.event_sources.shards import StreamPoller
from wsapp.emulator.awslambda.event_sources.sqs import QueuePoller
from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import EventSourceSpec

Clients = Callable[[str], Any]  # service name → a boto3 client for the embedded endpoint


class EventSourcePollers:
    """One task per mapping, on the gateway's loop; boto3 calls run in worker threads."""

    def __init__(
        self,
        sources: tuple[EventSourceSpec, ...],
        functions: Mapping[str, Function],
        clients: Clients,
        sink: LogSink,
    ) -> None:
        self.sources = [s for s in sources if s.enabled]
        self.functions = functions
        self.clients = clients
        self.sink = sink
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for source in self.sources:
            function = self.functions[source.function]
            if source.kind == "sqs":
                queue = QueuePoller(source, function, self.clients("sqs"))
                url = await asyncio.to_thread(queue.queue_url)
                self._tasks.append(loop.create_task(queue.run(url)))
                continue
            stream = StreamPoller(source, function, self.clients, self.sink)
            shards = await asyncio.to_thread(stream.shards)  # positioned now, before the task runs
            self._tasks.append(loop.create_task(stream.run(shards)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
