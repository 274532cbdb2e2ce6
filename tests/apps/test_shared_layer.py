"""A look-alike of public SAM WebSocket apps (``shared_layer/``): two functions in their own CodeUri
folders, both ``Handler: app.handler``, share a layer (BuildMethod python3.12) whose module builds the
@connections client; one has a dependency in requirements.txt. It runs on the local gateway as on AWS
after ``sam build``: connect, messages answered through the layer's client, disconnect."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import websocket

from wsapp.emulator import LocalGateway

APP = Path(__file__).resolve().parent / "shared_layer"
DEADLINE = 10.0


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A copy of the app (its dependency install goes into the copy's .wsapp/), installed offline."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    shutil.copytree(APP, tmp_path / "app", ignore=shutil.ignore_patterns(".wsapp", "__pycache__"))
    return tmp_path / "app" / "template.yaml"


def test_two_functions_share_a_layer_and_one_its_requirements_over_a_real_websocket(app):
    # Both functions import app.handler from their own folders: one process each (process isolation).
    with LocalGateway(app, dynamodb=False, isolation="process") as gw:
        ws = websocket.create_connection(gw.url, timeout=DEADLINE)
        try:
            connection_id = gw.connection_ids[0]
            ws.send(json.dumps({"action": "greet", "name": "Ada"}))
            greeting = json.loads(ws.recv())
            ws.send(json.dumps({"action": "chat", "text": "hi"}))  # no such route: $default
            echo = json.loads(ws.recv())
        finally:
            ws.close()
        disconnected = gw.wait_for_line(f"disconnected {connection_id}", DEADLINE)  # its $disconnect ran
    assert greeting == {"action": "greeting", "text": "Hello, Ada!"}  # requirements.txt + the layer's client
    assert echo == {"action": "echo", "body": {"action": "chat", "text": "hi"}}  # the layer's client
    assert disconnected.startswith("[ChatFunction ")
    assert "installing dependencies for GreetFunction (requirements.txt)..." in gw.logs
    assert not [line for line in gw.logs if line.startswith("warning:")]
