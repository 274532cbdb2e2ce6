"""Triggered by the jobs queue: do each job and post the result to the connection that asked. A job of
kind "flaky" fails the first time it is received (the batch is retried after the visibility timeout)."""

import json
import os

import boto3

management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    for record in event["Records"]:
        job = json.loads(record["body"])
        kind = record["messageAttributes"]["kind"]["stringValue"]
        received = int(record["attributes"]["ApproximateReceiveCount"])
        if kind == "flaky" and received == 1:
            raise RuntimeError("flaky job: try again")
        result = {
            "action": "done",
            "result": job["text"].upper(),
            "received": received,
            "source": record["eventSource"],
            "queueArn": record["eventSourceARN"],
        }
        management.post_to_connection(ConnectionId=job["to"], Data=json.dumps(result).encode())
    return {}
