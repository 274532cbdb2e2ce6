"""Triggered by the FIFO inbox: each record carries the sender's connection id as a message attribute."""

import json
import os

import boto3

api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for record in event["Records"]:
        sender = record["messageAttributes"]["connectionId"]["stringValue"]
        reply = {
            "action": "processed",
            "body": json.loads(record["body"]),
            "group": record["attributes"].get("MessageGroupId"),
        }
        api.post_to_connection(ConnectionId=sender, Data=json.dumps(reply).encode())
