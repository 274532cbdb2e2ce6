"""The chat's shared code, in a layer (CDK's LayerVersion with Code.fromAsset: the folder is /opt)."""

import json

import boto3


def connections_table(name: str):
    return boto3.resource("dynamodb").Table(name)


def broadcast(endpoint_url: str, connection_ids, message: dict) -> int:
    """Post ``message`` to each connection; a gone one is skipped. The number delivered."""
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url)
    delivered = 0
    for connection_id in connection_ids:
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
        except client.exceptions.GoneException:
            continue
        delivered += 1
    return delivered
