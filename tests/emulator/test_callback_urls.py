"""A function's ``@connections`` client works however its code builds the endpoint (issue 11 §1)."""

from __future__ import annotations

import json

import pytest
from emukit import HEADER, function, integration, route

from wsapp.emulator import LocalGateway

HANDLER = """\
import json
import os

import boto3


def handler(event, context):
    ctx = event["requestContext"]
    if ctx["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    how = json.loads(event["body"])["how"]
    endpoint = {
        "domain": f"https://{ctx['domainName']}/{ctx['stage']}",
        "domain-slash": f"https://{ctx['domainName']}/{ctx['stage']}/",
        "api-id": f"https://{ctx['apiId']}.execute-api.{os.environ['AWS_REGION']}.amazonaws.com/{ctx['stage']}",
    }[how]
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    client.post_to_connection(ConnectionId=ctx["connectionId"], Data=json.dumps({"via": how}).encode())
    return {"statusCode": 200}
"""


@pytest.fixture(scope="module", params=["process", "thread"])
def gateway(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("callback")
    (folder / "callback_handlers.py").write_text(HANDLER)
    text = HEADER + function("Fn", "callback_handlers.handler") + integration("I", "Fn")
    (folder / "template.yaml").write_text(text + route("D", "$default", "I"))
    with LocalGateway(folder / "template.yaml", dynamodb=False, isolation=request.param) as gw:
        yield gw


@pytest.mark.parametrize("how", ["domain", "domain-slash", "api-id"])
def test_a_post_reaches_the_connection_whatever_endpoint_the_code_builds(gateway, how):
    import websocket

    ws = websocket.create_connection(gateway.url, timeout=10)
    try:
        ws.send(json.dumps({"how": how}))
        assert json.loads(ws.recv()) == {"via": how}
    finally:
        ws.close()


def test_a_client_connected_as_localhost_gets_its_post_through_the_domain_name_in_the_event(gateway):
    import websocket

    ws = websocket.create_connection(gateway.url.replace("127.0.0.1", "localhost"), timeout=10)
    try:
        ws.send(json.dumps({"how": "domain"}))  # domainName is localhost:{port}
        assert json.loads(ws.recv()) == {"via": "domain"}
    finally:
        ws.close()
