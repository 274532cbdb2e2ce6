"""$connect and $disconnect: keep the table of open connections (the asset both functions share)."""

import os

from chatlib import connections_table

table = connections_table(os.environ["TABLE_NAME"])


def on_connect(event, context):
    context_ = event["requestContext"]
    name = (event.get("queryStringParameters") or {}).get("name", "anonymous")
    table.put_item(Item={"connectionId": context_["connectionId"], "name": name})
    return {"statusCode": 200}


def on_disconnect(event, context):
    connection_id = event["requestContext"]["connectionId"]
    table.delete_item(Key={"connectionId": connection_id})
    print(f"disconnected {connection_id}")
    return {"statusCode": 200}
