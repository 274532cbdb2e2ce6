"""Triggered by the click stream: each batch's clicks, tallied per connection, posted back to it."""

import base64
import json
import os
from collections import defaultdict

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    tallies = defaultdict(list)
    for record in event["Records"]:
        click = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if click["fail"]:
            raise RuntimeError(f"cannot tally {record['eventID']}")
        tallies[click["to"]].append(
            {
                "target": click["target"],
                "partitionKey": record["kinesis"]["partitionKey"],
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventSource": record["eventSource"],
                "eventSourceARN": record["eventSourceARN"],
                "invokeIdentityArn": record["invokeIdentityArn"],
                "arrived": record["kinesis"]["approximateArrivalTimestamp"],
                "schema": record["kinesis"]["kinesisSchemaVersion"],
            }
        )
    for connection, clicks in tallies.items():
        management.post_to_connection(ConnectionId=connection, Data=json.dumps(clicks).encode())
    return {}
