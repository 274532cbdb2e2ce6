"""A proxy handler whose body is the route response."""

import json


def handler(event, context):
    body = {"type": "you", "id": event["requestContext"]["connectionId"]}
    return {"statusCode": 200, "body": json.dumps(body)}
