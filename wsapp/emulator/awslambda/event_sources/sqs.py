"""An SQS queue as an event source [DG: "Using Lambda with Amazon SQS"].

Lambda long-polls the queue, invokes the function with up to ``BatchSize`` messages (default 10) as
``{"Records": [...]}`` (``messageId``, ``receiptHandle``, ``body``, ``attributes``,
``messageAttributes``, ``md5OfBody``, ``eventSource`` ``aws:sqs``, ``eventSourceARN``, ``awsRegion``),
deletes them when the function succeeds, and leaves them when it fails: they come back after the
queue's visibility timeout (and go to the dead-letter queue after its ``maxReceiveCount``, as the queue
itself does).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any

from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.template.model import EventSourceSpec


class QueuePoller:
    def __init__(self, source: EventSourceSpec, function: Function, sqs: Any) -> None:
        self.source = source
        self.function = function
        self.sqs = sqs

    def queue_url(self) -> str:
        return str(self.sqs.get_queue_url(QueueName=self.source.resource)["QueueUrl"])

    async def run(self, url: str) -> None:
        sqs, source = self.sqs, self.source
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
            event = {"Records": [sqs_record(m, source.source_arn, region) for m in messages]}
            result = await self.function.submit(event)
            if result.ok:
                handles = [m["ReceiptHandle"] for m in messages]
                entries = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles)]
                await asyncio.to_thread(sqs.delete_message_batch, QueueUrl=url, Entries=entries)
            # else: the messages stay; the queue shows them again after its visibility timeout


def sqs_record(message: Mapping[str, Any], source_arn: str, region: str) -> dict[str, Any]:
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
