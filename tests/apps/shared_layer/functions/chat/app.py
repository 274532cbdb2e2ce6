"""$connect, $disconnect and $default: answers every message through the shared layer's client."""

import json

from wscommon.connections import reply


def handler(event, context):
    ctx = event["requestContext"]
    if ctx["eventType"] == "CONNECT":
        return {"statusCode": 200}
    if ctx["eventType"] == "DISCONNECT":
        print(f"disconnected {ctx['connectionId']}")
        return {"statusCode": 200}
    reply(event, {"action": "echo", "body": json.loads(event["body"])})
    return {"statusCode": 200}
