"""The worker: does the slow part, then posts the result to the connection that asked for it."""

import json

import boto3


def handler(event, context):
    endpoint = f"https://{event['domainName']}/{event['stage']}"
    api = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    reply = {"action": "reply", "text": event["text"].upper(), "worker": context.function_name}
    api.post_to_connection(ConnectionId=event["connectionId"], Data=json.dumps(reply).encode())
    return {"posted": True}
