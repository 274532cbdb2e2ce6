"""sendmessage: post the message to every open connection through the stage's @connections API."""

import json
import os

from chatlib import broadcast, connections_table

table = connections_table(os.environ["TABLE_NAME"])


def handler(event, context):
    sender = event["requestContext"]["connectionId"]
    body = json.loads(event.get("body") or "{}")
    names = {item["connectionId"]: item["name"] for item in table.scan()["Items"]}
    message = {"from": names.get(sender, "anonymous"), "data": body.get("data", "")}
    delivered = broadcast(os.environ["CALLBACK_URL"], names, message)
    return {"statusCode": 200, "body": json.dumps({"delivered": delivered})}
