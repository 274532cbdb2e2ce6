"""Triggered by the queue the SNS topic delivers to (raw delivery: the record body is the message)."""

import json
import os

import boto3

api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
        reply = {"action": "heard", "text": message["text"]}
        api.post_to_connection(ConnectionId=message["connectionId"], Data=json.dumps(reply).encode())
