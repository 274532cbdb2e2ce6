"""The routes' handlers: $connect/$disconnect accept, a message is handed to the worker and answered later."""

import json
import os

import boto3

lambda_client = boto3.client("lambda")


def on_connection(event, context):
    return {"statusCode": 200}


def on_send(event, context):
    ctx = event["requestContext"]
    body = json.loads(event.get("body") or "{}")
    job = {
        "connectionId": ctx["connectionId"],
        "domainName": ctx["domainName"],
        "stage": ctx["stage"],
        "text": body.get("text", ""),
    }
    # Fire and forget: Lambda queues the event and answers 202; the worker replies on its own.
    lambda_client.invoke(
        FunctionName=os.environ["WORKER_FUNCTION"],
        InvocationType="Event",
        Payload=json.dumps(job).encode(),
    )
    return {"statusCode": 200}
