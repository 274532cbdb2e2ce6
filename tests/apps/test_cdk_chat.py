"""A look-alike of a CDK v2 app (``cdk_chat/cdk.out``, written by hand in the shape ``cdk synth`` gives):
the WebSocketApi L2 construct's Api, Stage, Routes and Lambda proxy Integrations (URIs built with
Fn::Join) with their AWS::Lambda::Permission, three AWS::Lambda::Function whose Code is an S3 asset
with ``aws:asset:path`` metadata (two share one asset folder), a LayerVersion asset, IAM roles and
policies, a DynamoDB table with a generated name, CDKMetadata under its region Condition, and the
BootstrapVersion parameter (Parameter Store) with its CheckBootstrapVersion rule. It runs offline,
unmodified, on the local gateway and on ``wsapp local --template cdk.out/CdkChatStack.template.json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(90)
TEMPLATE = Path(__file__).parent / "cdk_chat" / "cdk.out" / "CdkChatStack.template.json"
DEADLINE = 15.0


def chat(url: str) -> tuple[dict, dict]:
    """Ada and Bob connect; Ada says hello: what each of them received."""
    ada = websocket.create_connection(f"{url}?name=Ada", timeout=DEADLINE)
    bob = websocket.create_connection(f"{url}?name=Bob", timeout=DEADLINE)
    try:
        ada.send(json.dumps({"action": "sendmessage", "data": "hello"}))
        heard_by_ada, heard_by_bob = json.loads(ada.recv()), json.loads(bob.recv())
    finally:
        ada.close()
        bob.close()
    return heard_by_ada, heard_by_bob


def test_a_cdk_synthesized_chat_runs_over_real_websockets(gw):
    heard_by_ada, heard_by_bob = chat(gw.url)
    assert heard_by_ada == heard_by_bob == {"from": "Ada", "data": "hello"}  # via the layer's broadcast
    gw.wait_for_line("disconnected ", DEADLINE)  # $disconnect ran: its function shares the $connect asset
    assert not [line for line in gw.logs if line.startswith("warning:")]


def test_each_function_runs_its_asset_folder_with_the_layer_asset(gw):
    functions = {spec.handler: spec for spec in gw.model.functions.values()}
    base = TEMPLATE.parent
    assert functions["connection.on_connect"].code_root == functions["connection.on_disconnect"].code_root
    assert functions["message.handler"].code_root.parent == base
    assert functions["message.handler"].code_root.name.startswith("asset.")
    (layer,) = functions["message.handler"].layers
    assert layer.content is not None and layer.content.parent == base
    # The table's generated name reaches the functions through Ref, as CloudFormation names it.
    (table,) = gw.model.tables
    assert functions["message.handler"].environment["TABLE_NAME"] == table.name
    assert table.name.startswith("wsapp-local-ConnectionsTable")


def test_wsapp_local_serves_the_cdk_out_template():
    process = subprocess.Popen(
        [sys.executable, "-m", "wsapp", "local", "--quiet", "--port", "0", "--template", str(TEMPLATE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = ""
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("WebSocket URL: "):
                url = line.split(": ", 1)[1].strip()
                break
        assert url, process.stderr.read() if process.stderr else "no banner"
        heard_by_ada, heard_by_bob = chat(url)
        assert heard_by_ada == heard_by_bob == {"from": "Ada", "data": "hello"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
