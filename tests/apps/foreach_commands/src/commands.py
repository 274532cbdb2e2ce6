"""Every generated command route's handler: which command it is comes from its environment, as the
template's Fn::ForEach wrote it; each call is recorded in the table its STORE settings name."""

import json
import os

import boto3

COMMANDS = {
    "echo": lambda text: text,
    "upper": str.upper,
    "word-count": lambda text: str(len(text.split())),
}
store = json.loads(os.environ["STORE"])
table = boto3.resource("dynamodb").Table(store["table"])


def handler(event, context):
    command = os.environ["COMMAND"]
    text = str(json.loads(event.get("body") or "{}").get("text", ""))
    table.put_item(Item={"id": event["requestContext"]["requestId"], "command": command})
    calls = table.scan(Select="COUNT")["Count"]
    reply = {
        "command": command,
        "result": os.environ["PREFIX"] + COMMANDS[command](text),
        "commandCount": int(os.environ["COMMAND_COUNT"]),
        "settings": json.loads(os.environ["SETTINGS"]),
        "table": store["table"],
        "calls": calls,
    }
    return {"statusCode": 200, "body": json.dumps(reply)}
