"""The rehearsal proves the artifact: a ``wsapp init`` project deployed into MiniStack, whose Lambda runs
Python functions from the uploaded zip in subprocesses of its own (its venv's Python, without wsapp), so
a function that lacks a module fails there with ``Runtime.ImportModuleError`` as on Lambda.

The deployed functions are invoked through the alias API Gateway calls, on a CONNECT event and on a
MESSAGE for the project's own action, with SnapStart on (MiniStack runs INIT and the before-snapshot
hooks when a version is published); then a client connects over MiniStack's WebSocket data plane,
through the authorizer, and gets the action's reply.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import websocket

from wsapp.auth import issue_token
from wsapp.cli import main
from wsapp.deploy.rehearsal import rehearsal_template

ROOT = Path(__file__).resolve().parents[2]
STACK = "hello-rehearsal"
SECRET = "a-rehearsal-secret-of-at-least-32-bytes"

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("fake_aws")]


def wsapp(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def invoke(lam, function: str, event: dict) -> dict:
    answer = lam.invoke(FunctionName=function, Qualifier="live", Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return payload


def test_a_new_project_deployed_to_ministack_answers_connect_and_its_action(ministack, tmp_path, capsys):
    project = tmp_path / "hello-world"
    assert main(["init", str(project)]) == 0
    template = rehearsal_template(project / "template.yaml", tmp_path, endpoint=ministack)
    common = ["--stack-name", STACK, "--endpoint-url", ministack, "--template", str(template)]
    params = ["--parameter", f"TokenSecret={SECRET}", "--parameter", "EnableSnapStart=true"]

    code, out = wsapp(capsys, "deploy", *common, *params)
    assert code == 0, out
    assert "snapstart  on published versions: AuthorizerFunction (alias live), WebSocketFunction" in out
    api_id = next(line.split()[1] for line in out.splitlines() if line.startswith("ApiId "))
    aws = {"endpoint_url": ministack, "region_name": "us-east-1"}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in boto3.client("cloudformation", **aws).describe_stack_resources(StackName=STACK)[
            "StackResources"
        ]
    }
    lam = boto3.client("lambda", **aws)
    for function in ("WebSocketFunction", "AuthorizerFunction"):
        # A SnapStart version is Pending until its snapshot is taken, and cannot be invoked before.
        published = lam.get_alias(FunctionName=physical[function], Name="live")["FunctionVersion"]
        waiter = lam.get_waiter("published_version_active")
        waiter.wait(
            FunctionName=physical[function], Qualifier=published, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    alias = lam.get_alias(FunctionName=physical["WebSocketFunction"], Name="live")
    version = lam.get_function_configuration(
        FunctionName=physical["WebSocketFunction"], Qualifier=alias["FunctionVersion"]
    )
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert (version["Runtime"], version["Architectures"]) == ("python3.12", ["arm64"])

    # CONNECT: the connection is admitted with the app's subprotocol and recorded in the stack's table
    connect = json.loads((ROOT / "events" / "connect.json").read_text())
    connect["requestContext"]["authorizer"] = {"principalId": "alice", "sub": "alice"}
    answer = invoke(lam, physical["WebSocketFunction"], connect)
    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "wsapp.v1"}}
    rows = boto3.client("dynamodb", **aws).scan(TableName=physical["ConnectionsTable"])["Items"]
    assert [r["principalId"]["S"] for r in rows] == ["alice"]

    # MESSAGE for the project's own action (events/hello.json, as `wsapp init` wrote it)
    message = json.loads((project / "events" / "hello.json").read_text())
    assert invoke(lam, physical["WebSocketFunction"], message) == {"statusCode": 200}

    # the authorizer: a token signed with the stack's secret is allowed
    request = json.loads((ROOT / "events" / "authorizer_request.json").read_text())
    token = issue_token("alice", secret=SECRET, ttl=600)
    request["headers"]["Sec-WebSocket-Protocol"] = f"wsapp.v1, {token}"
    policy = invoke(lam, physical["AuthorizerFunction"], request)
    assert policy["principalId"] == "alice"
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"

    # over MiniStack's WebSocket data plane: the authorizer, $connect, then the action's reply
    url = f"{ministack.replace('http://', 'ws://')}/_aws/execute-api/{api_id}/prod"
    # MiniStack 1.5.33 accepts the handshake without the subprotocol $connect chose (API Gateway sends
    # it back), which websocket-client refuses when it offered some: the offer goes as a plain header.
    offer = f"Sec-WebSocket-Protocol: wsapp.v1, {token}"
    ws = websocket.create_connection(url, header=[offer], timeout=30)
    try:
        ws.send(json.dumps({"action": "hello"}))
        assert json.loads(ws.recv()) == {"action": "hello", "message": "Hello, alice!"}
    finally:
        ws.close()

    # deployed again unchanged: the same artifact, not uploaded twice, and no change set to run
    code, out = wsapp(capsys, "deploy", *common)
    assert code == 0, out
    assert "already uploaded" in out and "uploaded s3://" not in out.replace("already uploaded", "")
    assert f"no changes: {STACK} is up to date" in out
    [key] = {
        line.split("/", 3)[3].split()[0] for line in out.splitlines() if line.startswith("artifact s3://")
    }
    stored = boto3.client("s3", **aws).list_objects_v2(Bucket="wsapp-artifacts-000000000000-us-east-1")
    assert [o["Key"] for o in stored["Contents"]].count(key) == 1

    code, out = wsapp(capsys, "destroy", "--stack-name", STACK, "--endpoint-url", ministack)
    assert (code, out.splitlines()[-1]) == (0, f"deleted {STACK}")
