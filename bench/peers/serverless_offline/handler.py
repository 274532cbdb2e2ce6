"""The peer's Python handler: wsapp's marco/polo and two-way ping, nothing else.

$connect and $disconnect answer 200 (wsapp also writes and deletes a DynamoDB row there; this does
not). ``marco`` is answered through the Management API with boto3's ``post_to_connection``, like
wsapp's handler; ``ping`` (a two-way route) returns its reply as the route response. The endpoint is
serverless-offline's WebSocket port, given by the bench in PEER_MANAGEMENT_ENDPOINT.
"""

import json
import os
from datetime import UTC, datetime

import boto3

MANAGEMENT = boto3.client(
    "apigatewaymanagementapi",
    endpoint_url=os.environ["PEER_MANAGEMENT_ENDPOINT"],
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
)
OK = {"statusCode": 200}
COMPACT = (",", ":")


def _now():
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handler(event, context):
    request = event.get("requestContext", {})
    if request.get("eventType") != "MESSAGE":
        return OK
    try:
        payload = json.loads(event.get("body") or "")
    except ValueError:
        payload = None
    action = payload.get("action") if isinstance(payload, dict) else None
    if action == "ping":
        return {"statusCode": 200, "body": json.dumps({"action": "pong", "ts": _now()}, separators=COMPACT)}
    if action == "marco":
        reply = {"action": "polo", "ts": _now()}
        ident = payload.get("id")
        if isinstance(ident, (str, int)) and not isinstance(ident, bool):
            reply["id"] = ident
        MANAGEMENT.post_to_connection(
            ConnectionId=request["connectionId"], Data=json.dumps(reply, separators=COMPACT).encode()
        )
    return OK
