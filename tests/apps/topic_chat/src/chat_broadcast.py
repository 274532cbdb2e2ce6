"""Subscribed to the chat topic (lobby only): post each message to every connection."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    connections = [item["connectionId"] for item in table.scan()["Items"]]
    for record in event["Records"]:
        sns = record["Sns"]
        message = {
            "data": sns["Message"],
            "room": sns["MessageAttributes"]["room"]["Value"],
            "subject": sns["Subject"],
            "topic": sns["TopicArn"],
        }
        for connection in connections:
            try:
                management.post_to_connection(ConnectionId=connection, Data=json.dumps(message).encode())
            except management.exceptions.GoneException:
                pass  # gone since; its $disconnect would remove it
    return {}
