"""The submit route: queue the job with the asking connection's id, answer nothing yet."""

import json
import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    job = json.loads(event["body"])
    sqs.send_message(
        QueueUrl=os.environ["JOBS_QUEUE_URL"],
        MessageBody=json.dumps({"to": event["requestContext"]["connectionId"], "text": job["text"]}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": job.get("kind", "upper")}},
    )
    return {"statusCode": 200}
