"""Stream event sources: each shard of a DynamoDB stream or a Kinesis data stream, polled as Lambda polls it.

[DG: "Using AWS Lambda with Amazon DynamoDB"], [DG: "Using Lambda to process records from Amazon Kinesis
Data Streams"]: Lambda reads each shard, sends up to ``BatchSize`` records (default 100) in one
synchronous invocation as ``{"Records": [...]}``, and, when the function fails, retries the same batch
(the shard waits) until it succeeds, the records expire, or ``MaximumRetryAttempts`` is spent. The
shards are read through the embedded services' DynamoDB Streams and Kinesis APIs, as Lambda reads the
real ones.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import EventSourceSpec

Clients = Callable[[str], Any]  # service name → a boto3 client for the embedded endpoint
# "Lambda polls shards in your DynamoDB stream for records at a base rate of 4 times per second";
# Kinesis shards "at a base rate of once per second" (standard iterators).
IDLE_POLL = {"dynamodb": 0.25, "kinesis": 1.0}
RETRY_PAUSE = 1.0  # UNCONFIRMED: Lambda's backoff between retries of a failed batch


@dataclass
class Shard:
    shard_id: str
    iterator: str


class StreamPoller:
    """One mapping's shards, read in turn on the gateway's loop (boto3 calls in worker threads)."""

    def __init__(self, source: EventSourceSpec, function: Function, clients: Clients, sink: LogSink) -> None:
        self.source = source
        self.function = function
        self.clients = clients
        self.sink = sink
        self.api = clients("dynamodbstreams" if source.kind == "dynamodb" else "kinesis")
        self.region = self.api.meta.region_name

    def shards(self) -> list[Shard]:
        """Each shard's iterator, taken now (LATEST: what is written from here on), before polling starts."""
        source = self.source
        position: dict[str, Any] = {"ShardIteratorType": source.starting_position}
        if source.starting_position not in ("TRIM_HORIZON", "AT_TIMESTAMP"):
            position["ShardIteratorType"] = "LATEST"
        if source.kind == "dynamodb":
            table = self.clients("dynamodb").describe_table(TableName=source.resource)["Table"]
            stream = {"StreamArn": table["LatestStreamArn"]}
            listed = self.api.describe_stream(**stream)["StreamDescription"]["Shards"]
        else:
            stream = {"StreamName": source.resource}
            listed = self.api.list_shards(**stream)["Shards"]
            if position["ShardIteratorType"] == "AT_TIMESTAMP":
                position["Timestamp"] = source.starting_timestamp
        return [
            Shard(
                s["ShardId"],
                self.api.get_shard_iterator(**stream, ShardId=s["ShardId"], **position)["ShardIterator"],
            )
            for s in listed
        ]

    async def run(self, shards: list[Shard]) -> None:
        idle = IDLE_POLL[self.source.kind]
        while shards:
            got_any = False
            following = []
            for shard in shards:
                answer = await asyncio.to_thread(
                    self.api.get_records, ShardIterator=shard.iterator, Limit=self.source.batch_size
                )
                records = answer.get("Records") or []
                if records:
                    got_any = True
                    await self._deliver(shard.shard_id, records)
                if answer.get("NextShardIterator"):  # none once a shard is closed
                    following.append(Shard(shard.shard_id, answer["NextShardIterator"]))
            shards = following
            if not got_any:
                await asyncio.sleep(idle)

    async def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        source = self.source
        if source.kind == "dynamodb":
            event = {"Records": [dynamodb_record(r, source.source_arn) for r in records]}
        else:
            event = {"Records": [kinesis_record(r, shard_id, source, self.region) for r in records]}
        attempts = 0
        while True:
            result = await self.function.submit(event)
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


def dynamodb_record(record: Mapping[str, Any], source_arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it over: the API's record, times as epoch seconds, and the ARN."""
    dynamodb = dict(record.get("dynamodb") or {})
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": source_arn}


def kinesis_record(
    record: Mapping[str, Any], shard_id: str, source: EventSourceSpec, region: str
) -> dict[str, Any]:
    """A Kinesis record as Lambda hands it over [DG: "Using Lambda to process records from Amazon Kinesis
    Data Streams", example event]: data in base64, the arrival time in epoch seconds (milliseconds as
    decimals), ``eventID`` the shard and sequence number."""
    arrived = record.get("ApproximateArrivalTimestamp")
    if isinstance(arrived, datetime.datetime):
        arrived = round(arrived.timestamp(), 3)
    kinesis: dict[str, Any] = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": record["PartitionKey"],
        "sequenceNumber": record["SequenceNumber"],
        "data": base64.b64encode(record.get("Data") or b"").decode(),
        "approximateArrivalTimestamp": arrived,
    }
    if record.get("EncryptionType") and record["EncryptionType"] != "NONE":
        kinesis["encryptionType"] = record["EncryptionType"]
    return {
        "kinesis": kinesis,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": source.identity_arn,
        "awsRegion": region,
        "eventSourceARN": source.source_arn,
    }
