"""The deploy rehearsal: create, update (no-op, then a new secret), outputs, destroy on MiniStack.

MiniStack does not know AWS::ApiGatewayV2::RouteResponse, so the rehearsal template is template.yaml
without PingRouteResponse (the two-way ``ping`` reply); everything else is deployed as written, and the
functions are told where MiniStack serves ``@connections``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import boto3
import pytest
import websocket

from wsapp.auth import issue_token
from wsapp.cli import main
from wsapp.deploy.plan import load_template
from wsapp.deploy.rehearsal import rehearsal_template

ROOT = Path(__file__).resolve().parents[2]


STACK = "wsapp-rehearsal"
SECRET = "first-secret-of-at-least-32-bytes!!"
NEW_SECRET = "second-secret-of-at-least-32-bytes!"

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("fake_aws")]


@pytest.fixture
def template(tmp_path, ministack):
    path = rehearsal_template(ROOT / "template.yaml", tmp_path, endpoint=ministack)
    assert "PingRouteResponse" not in load_template(path)["Resources"]
    return path


def wsapp(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_deploy_update_outputs_and_destroy_on_ministack(ministack, template, capsys):
    aws = {"endpoint_url": ministack, "region_name": "us-east-1"}
    common = ["--stack-name", STACK, "--endpoint-url", ministack, "--template", str(template)]

    # GIVEN no stack WHEN deployed THEN it is created, events are streamed and outputs printed
    code, out = wsapp(capsys, "deploy", *common, "--parameter", f"TokenSecret={SECRET}")
    assert code == 0, out
    assert "CREATE_COMPLETE              WebSocketFunction" in out
    assert f"created {STACK}" in out
    api_id = next(line.split()[1] for line in out.splitlines() if line.startswith("ApiId "))
    assert f"wss://{api_id}.execute-api.us-east-1.amazonaws.com/prod" in out
    assert f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod/@connections" in out

    # THEN the API, its routes, authorizer, stage, functions and table are there as declared
    apigw = boto3.client("apigatewayv2", **aws)
    api = apigw.get_api(ApiId=api_id)
    assert (api["Name"], api["ProtocolType"]) == (f"{STACK}-websocket", "WEBSOCKET")
    assert api["RouteSelectionExpression"] == "$request.body.action"
    [authorizer] = apigw.get_authorizers(ApiId=api_id)["Items"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.header.Sec-WebSocket-Protocol"]
    routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {"$connect", "$disconnect", "$default", "ping"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == authorizer["AuthorizerId"]
    [integration] = apigw.get_integrations(ApiId=api_id)["Items"]
    assert {r["Target"] for r in routes.values()} == {f"integrations/{integration['IntegrationId']}"}
    [stage] = apigw.get_stages(ApiId=api_id)["Items"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("prod", True)

    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in boto3.client("cloudformation", **aws).describe_stack_resources(StackName=STACK)[
            "StackResources"
        ]
    }
    lam = boto3.client("lambda", **aws)
    [key] = {
        line.split("/", 3)[3].split()[0] for line in out.splitlines() if line.startswith("uploaded s3://")
    }
    code_sha = base64.b64encode(hashlib.sha256(_artifact_bytes(ministack, key)).digest()).decode()
    for logical, handler in [
        ("WebSocketFunction", "wsapp.handlers.websocket.handler"),
        ("AuthorizerFunction", "wsapp.handlers.authorizer.handler"),
    ]:
        conf = lam.get_function_configuration(FunctionName=physical[logical])
        assert (conf["Handler"], conf["Runtime"], conf["Architectures"]) == (handler, "python3.12", ["arm64"])
        assert conf["CodeSha256"] == code_sha
    websocket_env = lam.get_function_configuration(FunctionName=physical["WebSocketFunction"])["Environment"]
    assert websocket_env["Variables"]["CONNECTIONS_TABLE"] == physical["ConnectionsTable"]
    assert _secret_of(lam, physical) == SECRET
    table = boto3.client("dynamodb", **aws).describe_table(TableName=physical["ConnectionsTable"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "connectionId", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    # THEN marco → polo over MiniStack's WebSocket data plane, through the authorizer (the offer goes as
    # a plain header: MiniStack 1.5.33 does not send back the subprotocol $connect chose)
    token = issue_token("rehearsal", secret=SECRET, ttl=600)
    url = f"{ministack.replace('http://', 'ws://')}/_aws/execute-api/{api_id}/prod"
    ws = websocket.create_connection(url, header=[f"Sec-WebSocket-Protocol: wsapp.v1, {token}"], timeout=30)
    try:
        ws.send(json.dumps({"action": "marco"}))
        assert json.loads(ws.recv())["action"] == "polo"
    finally:
        ws.close()

    # WHEN deployed again unchanged (the secret kept from before) THEN nothing is done
    code, out = wsapp(capsys, "deploy", *common)
    assert code == 0, out
    assert f"no changes: {STACK} is up to date" in out
    assert "already uploaded" in out

    # WHEN the secret changes THEN the stack is updated and the function sees the new one
    code, out = wsapp(capsys, "deploy", *common, "--parameter", f"TokenSecret={NEW_SECRET}")
    assert code == 0, out
    assert f"updated {STACK}" in out
    assert "TokenSecret = ****" in out
    assert _secret_of(lam, physical) == NEW_SECRET

    code, out = wsapp(capsys, "outputs", "--stack-name", STACK, "--endpoint-url", ministack)
    assert (code, out.split()[:2]) == (0, ["ApiId", api_id])

    # WHEN destroyed THEN the stack and its API are gone, and a second destroy is harmless
    code, out = wsapp(capsys, "destroy", "--stack-name", STACK, "--endpoint-url", ministack)
    assert (code, out.splitlines()[-1]) == (0, f"deleted {STACK}")
    assert "DELETE_COMPLETE              WebSocketApi" in out
    assert "CREATE_" not in out and "UPDATE_" not in out  # only this operation's events are streamed
    assert api_id not in {a["ApiId"] for a in apigw.get_apis()["Items"]}
    code, out = wsapp(capsys, "outputs", "--stack-name", STACK, "--endpoint-url", ministack)
    assert (code, out.strip()) == (1, f"wsapp outputs: no stack named {STACK} in us-east-1")
    code, out = wsapp(capsys, "destroy", "--stack-name", STACK, "--endpoint-url", ministack)
    assert (code, "nothing to delete" in out) == (0, True)
    for secret in (SECRET, NEW_SECRET):
        assert secret not in out


def _artifact_bytes(endpoint: str, key: str) -> bytes:
    """The uploaded zip: both functions run it (one artifact, as they are built alike)."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = "wsapp-artifacts-000000000000-us-east-1"
    assert key.startswith("wsapp/") and key.endswith(".zip")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _secret_of(lam, physical: dict[str, str]) -> str:
    conf = lam.get_function_configuration(FunctionName=physical["AuthorizerFunction"])
    return conf["Environment"]["Variables"]["TOKEN_SECRET"]
