"""$connect: remember the connection, and the name the client gave in the query string (?name=ada)."""

import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])  # once per execution environment


def handler(event, context):
    connection_id = event["requestContext"]["connectionId"]
    name = (event.get("queryStringParameters") or {}).get("name") or "anonymous"
    table.put_item(Item={"connectionId": connection_id, "name": name})
    return {"statusCode": 200}
