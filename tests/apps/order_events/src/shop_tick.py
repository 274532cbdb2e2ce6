"""Every minute (the schedule's constant Input): post a tick to every connection."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for item in table.scan()["Items"]:
        try:
            management.post_to_connection(ConnectionId=item["connectionId"], Data=json.dumps(event).encode())
        except management.exceptions.GoneException:
            pass
    return {}
