"""Services that push events to Lambda: SNS and EventBridge invoke the function asynchronously.

[DG: "Invoking Lambda functions with Amazon SNS notifications"]: "Amazon SNS invokes your function
asynchronously with an event that contains a message", one record per message: ``EventSource``
``aws:sns``, ``EventVersion`` 1.0, ``EventSubscriptionArn``, and ``Sns`` (``Type`` Notification,
``MessageId``, ``TopicArn``, ``Subject`` (null when none), ``Message``, ``Timestamp``,
``SignatureVersion``, ``Signature``, ``SigningCertUrl``, ``UnsubscribeUrl``, ``MessageAttributes``
as ``{name: {"Type", "Value"}}``). [DG: "Using Lambda with EventBridge"]: a rule invokes its function
asynchronously with the event (or the target's input). Both go through the event queue of the Invoke
API's ``Event`` type (``event_queue.py``: retries, maximum age), as Lambda's own queue takes them.

The embedded services hand the deliveries over from their own threads (``services/lambda_targets.py``,
which the gateway connects to :meth:`PushedEvents.receive`).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from wsapp.emulator.awslambda import api_errors, function_names
from wsapp.emulator.awslambda.invoke_api import InvokeApi


class PushedEvents:
    """Receives SNS and EventBridge deliveries for the template's functions while the gateway runs."""

    def __init__(self, invoke_api: InvokeApi, loop: asyncio.AbstractEventLoop) -> None:
        self.invoke_api = invoke_api
        self.loop = loop

    def receive(self, source: str, arn: str, payload: Any) -> bool:
        """Called on a thread of the embedded services: whether ``arn`` is a function of this template."""
        api = self.invoke_api
        try:
            target = function_names.resolve(arn, None, api.specs, api.account)
        except api_errors.ApiError:
            return False
        if self.loop.is_closed():
            return False
        event = sns_event(payload) if source == "sns" else payload
        self.loop.call_soon_threadsafe(api.invoke_event, target, json.dumps(event).encode())
        return True


def sns_event(delivery: dict[str, Any]) -> dict[str, Any]:
    """Lambda's SNS event for one notification (SNS's HTTP document, in Lambda's spelling)."""
    note = delivery["notification"]
    subscription = delivery["subscription_arn"]
    region = subscription.split(":")[3]
    attributes = {
        name: {"Type": value.get("Type"), "Value": _text(value.get("Value"))}
        for name, value in (note.get("MessageAttributes") or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": note["MessageId"],
                    "TopicArn": note["TopicArn"],
                    "Subject": note.get("Subject"),
                    "Message": note["Message"],
                    "Timestamp": note["Timestamp"],
                    "SignatureVersion": note.get("SignatureVersion", "1"),
                    "Signature": note.get("Signature", ""),
                    "SigningCertUrl": note.get("SigningCertURL", ""),
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                    f"&SubscriptionArn={subscription}",
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


def _text(value: Any) -> Any:
    """Attribute values as text: binary ones in base64, numbers as the digits they were sent as."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value if isinstance(value, str) or value is None else str(value)
