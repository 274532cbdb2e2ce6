"""OrderPlaced events: tell the customer's connection, with what EventBridge said."""

import json
import os

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    detail = event["detail"]
    message = {"notified": detail["item"], "event": event}
    management.post_to_connection(ConnectionId=detail["customer"], Data=json.dumps(message).encode())
    return {}
