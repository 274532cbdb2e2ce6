"""Triggered by the notes table's stream: each new note goes to the connection it names."""

import json
import os

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        image = record["dynamodb"]["NewImage"]
        if image["fail"]["BOOL"]:
            raise RuntimeError(f"cannot deliver {image['noteId']['S']}")
        message = {
            "action": "note",
            "text": image["text"]["S"],
            "source": record["eventSource"],
            "streamArn": record["eventSourceARN"],
            "created": isinstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float)),
        }
        management.post_to_connection(ConnectionId=image["to"]["S"], Data=json.dumps(message).encode())
    return {}
