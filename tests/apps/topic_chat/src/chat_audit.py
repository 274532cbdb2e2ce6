"""Subscribed to the chat topic (audited messages only): echo the record it got to the sender."""

import json
import os

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for record in event["Records"]:
        sender = record["Sns"]["MessageAttributes"]["sender"]["Value"]
        management.post_to_connection(ConnectionId=sender, Data=json.dumps({"audited": record}).encode())
    return {}
