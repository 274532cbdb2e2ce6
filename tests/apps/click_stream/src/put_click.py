"""The click route: put the click on the stream, keyed by the connection it came from."""

import json
import os

import boto3

kinesis = boto3.client("kinesis")


def handler(event, context):
    body = json.loads(event["body"])
    connection = event["requestContext"]["connectionId"]
    click = {"to": connection, "target": body["target"], "fail": bool(body.get("fail", False))}
    kinesis.put_record(StreamName=os.environ["STREAM_NAME"], Data=json.dumps(click), PartitionKey=connection)
    return {"statusCode": 200}
