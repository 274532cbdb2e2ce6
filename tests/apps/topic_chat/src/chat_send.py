"""sendmessage: publish to the chat topic; its subscribers deliver it."""

import json
import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    body = json.loads(event["body"])
    attributes = {
        "room": {"DataType": "String", "StringValue": body.get("room", "lobby")},
        "sender": {"DataType": "String", "StringValue": event["requestContext"]["connectionId"]},
        "audit": {"DataType": "String", "StringValue": "yes" if body.get("audit") else "no"},
    }
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"], Message=body["data"], Subject="chat", MessageAttributes=attributes
    )
    return {"statusCode": 200}
