"""sendmessage: {"action": "sendmessage", "data": "..."} goes to everyone in the room, with the sender's name.

The @connections endpoint is built from the event, as the public samples build it: https://{domainName}/{stage}.
A connection that is gone (410) is removed from the table: its $disconnect never ran.
"""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    ctx = event["requestContext"]
    sender = table.get_item(Key={"connectionId": ctx["connectionId"]}).get("Item", {})
    text = json.loads(event.get("body") or "{}").get("data", "")
    data = json.dumps({"from": sender.get("name", "anonymous"), "data": text}).encode()
    api = boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{ctx['domainName']}/{ctx['stage']}")
    delivered, gone = 0, 0
    for item in table.scan(ProjectionExpression="connectionId")["Items"]:
        try:
            api.post_to_connection(ConnectionId=item["connectionId"], Data=data)
            delivered += 1
        except api.exceptions.GoneException:
            table.delete_item(Key={"connectionId": item["connectionId"]})
            gone += 1
    print(json.dumps({"delivered": delivered, "gone": gone}))
    return {"statusCode": 200}
