"""Invoked asynchronously by the gateway: replies through @connections at the URL the payload names."""

import json
import os

import boto3


def handler(event, context):
    endpoint = f"https://{event['domain']}/{event['stage']}"
    api = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name=os.environ["AWS_REGION"])
    reply = {"type": "done", "note": event["note"], "requestId": context.aws_request_id}
    api.post_to_connection(ConnectionId=event["connectionId"], Data=json.dumps(reply).encode())
