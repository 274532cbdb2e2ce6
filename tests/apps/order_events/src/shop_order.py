"""The order route: announce the order on the shop's bus; rules route it from there."""

import json
import os

import boto3

events = boto3.client("events")


def handler(event, context):
    body = json.loads(event["body"])
    detail = {
        "customer": event["requestContext"]["connectionId"],
        "item": body["item"],
        "total": body["total"],
    }
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": os.environ["BUS_NAME"],
                "Source": "shop.orders",
                "DetailType": body.get("type", "OrderPlaced"),
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer
    return {"statusCode": 200}
