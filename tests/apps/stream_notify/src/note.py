"""The note route: store the note; the stream takes it from there."""

import json
import os
import uuid

import boto3

table = boto3.resource("dynamodb").Table(os.environ["NOTES_TABLE"])


def handler(event, context):
    body = json.loads(event["body"])
    table.put_item(
        Item={
            "noteId": str(uuid.uuid4()),
            "to": event["requestContext"]["connectionId"],
            "text": body["text"],
            "fail": bool(body.get("fail", False)),
        }
    )
    return {"statusCode": 200}
