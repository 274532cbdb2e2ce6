"""The @connections client every function builds the same way: the endpoint from the event."""

import json

import boto3

_clients = {}


def client_for(event):
    """The Management API client for the API and stage that sent ``event`` (one per endpoint)."""
    ctx = event["requestContext"]
    endpoint = f"https://{ctx['domainName']}/{ctx['stage']}"
    if endpoint not in _clients:
        _clients[endpoint] = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    return _clients[endpoint]


def reply(event, message):
    """Post ``message`` (JSON) to the connection that sent ``event``."""
    client = client_for(event)
    client.post_to_connection(ConnectionId=event["requestContext"]["connectionId"], Data=json.dumps(message))
