"""Big orders, given only their detail (the target's InputPath): tell the customer."""

import json
import os

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    message = {"big": event}
    management.post_to_connection(ConnectionId=event["customer"], Data=json.dumps(message).encode())
    return {}
