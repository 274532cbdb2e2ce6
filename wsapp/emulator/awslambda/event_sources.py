"""Event source mappings: Lambda reads a DynamoDB stream or an SQS queue and invokes the function with
each batch.

What Lambda does, and so the poller here [DG: "Using AWS Lambda with Amazon DynamoDB", "Lambda event
source mappings"]: it polls each shard of the stream (four times a second when there is nothing to
read), sends up to ``BatchSize`` records (default 100) in one synchronous invocation as
``{"Records": [...]}`` — each record as the DynamoDB Streams API gives it, plus ``eventSourceARN`` —
and, when the function fails, retries the same batch (the shard waits) until it succeeds, the records
expire, or ``MaximumRetryAttempts`` is spent. The stream is read through the DynamoDB Streams API of
the embedded services, as Lambda reads the real one.

An SQS queue [DG: "Using Lambda with Amazon SQS"]: Lambda long-polls the queue, invokes the function
with up to ``BatchSize`` messages (default 10) as ``{"Records": [...]}`` (``messageId``,
``receiptHandle``, ``body``, ``attributes``, ``messageAttributes``, ``md5OfBody``, ``eventSource``
``aws:sqs``, ``eventSourceARN``, ``awsRegion``), deletes them when the function succeeds, and leaves
them when it fails: they come back after the queue's visibility timeout (and go to the dead-letter queue
after its ``maxReceiveCount``, as the queue itself does).

UNCONFIRMED (knobs): the pause between retries of a failed stream batch (Lambda backs off; locally 1 s).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import EventSourceSpec

# "Lambda polls shards in your DynamoDB stream for records at a base rate of 4 times per second."
IDLE_POLL = 0.25
RETRY_PAUSE = 1.0  # UNCONFIRMED: Lambda's backoff between retries of a failed batch

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
            if source.kind == "sqs":
                url = await asyncio.to_thread(self._queue_url, source)
                self._tasks.append(loop.create_task(self._poll_queue(source, url)))
                continue
            # The shard iterators are taken now (LATEST: what is written from here on), before the task runs.
            iterators = await asyncio.to_thread(self._iterators, source)
            self._tasks.append(loop.create_task(self._poll(source, iterators)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def _iterators(self, source: EventSourceSpec) -> list[str]:
        table = self.clients("dynamodb").describe_table(TableName=source.resource)["Table"]
        streams = self.clients("dynamodbstreams")
        arn = table["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        kind = "TRIM_HORIZON" if source.starting_position == "TRIM_HORIZON" else "LATEST"
        return [
            streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind)[
                "ShardIterator"
            ]
            for shard in shards
        ]

    async def _poll(self, source: EventSourceSpec, iterators: list[str]) -> None:
        streams = self.clients("dynamodbstreams")
        while iterators:
            got_any = False
            following = []
            for iterator in iterators:
                answer = await asyncio.to_thread(
                    streams.get_records, ShardIterator=iterator, Limit=source.batch_size
                )
                records = answer.get("Records") or []
                if records:
                    got_any = True
                    await self._deliver(source, records)
                if answer.get("NextShardIterator"):
                    following.append(answer["NextShardIterator"])
            iterators = following
            if not got_any:
                await asyncio.sleep(IDLE_POLL)

    async def _deliver(self, source: EventSourceSpec, records: list[dict[str, Any]]) -> None:
        event = {"Records": [_lambda_record(r, source.source_arn) for r in records]}
        attempts = 0
        while True:
            result = await self.functions[source.function].submit(event)
            if result.ok:
                return
            attempts += 1
            if source.max_retries is not None and attempts > source.max_retries:
                self.sink.emit(
                    f"[{source.logical_id}] dropped a batch of {len(records)} records after {attempts}"
                    f" attempts: {result.error_type}: {result.error_message}\n"
                )
                return
            await asyncio.sleep(RETRY_PAUSE)


    def _queue_url(self, source: EventSourceSpec) -> str:
        return str(self.clients("sqs").get_queue_url(QueueName=source.resource)["QueueUrl"])

    async def _poll_queue(self, source: EventSourceSpec, url: str) -> None:
        sqs = self.clients("sqs")
        region = sqs.meta.region_name
        while True:
            answer = await asyncio.to_thread(
                sqs.receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=min(source.batch_size, 10),  # one ReceiveMessage returns 10 at most
                WaitTimeSeconds=1,  # long polling, as Lambda's pollers do (short here: stop stays prompt)
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = answer.get("Messages") or []
            if not messages:
                continue
            event = {"Records": [_sqs_record(m, source.source_arn, region) for m in messages]}
            result = await self.functions[source.function].submit(event)
            if result.ok:
                handles = [m["ReceiptHandle"] for m in messages]
                entries = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles)]
                await asyncio.to_thread(sqs.delete_message_batch, QueueUrl=url, Entries=entries)
            # else: the messages stay; the queue shows them again after its visibility timeout


def _sqs_record(message: Mapping[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it over (the API's keys in Lambda's camel case)."""
    attributes = {
        name: {_camel(k): _text(v) for k, v in value.items()}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]  # StringValue -> stringValue


def _text(value: Any) -> Any:
    """Binary attribute values as Lambda's event carries them: base64 text."""
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value


def _lambda_record(record: Mapping[str, Any], source_arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it over: the API's record, times as epoch seconds, and the ARN."""
    dynamodb = dict(record.get("dynamodb") or {})
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": source_arn}
