"""The greet route: the greeting comes from a dependency (requirements.txt), the reply goes out
through the shared layer's client."""

import json

from greeting import greet
from wscommon.connections import reply


def handler(event, context):
    name = json.loads(event["body"]).get("name", "world")
    reply(event, {"action": "greeting", "text": greet(name)})
    return {"statusCode": 200}
