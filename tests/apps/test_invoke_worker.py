"""A look-alike of a common public pattern: a message route hands its work to a worker through
``lambda.invoke(InvocationType="Event")``, and the worker, on no route, replies through ``@connections``
at ``https://{domainName}/{stage}`` from the event. End to end over a real WebSocket, in both isolations."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "invoke_worker" / "template.yaml"


def test_the_worker_is_a_function_of_the_app_but_on_no_route(gw):
    assert set(gw.model.functions) == {"ConnectionFunction", "SendFunction", "ReplyWorker"}
    assert gw.model.routed_functions == {"ConnectionFunction", "SendFunction"}
    assert gw.runtimes["ReplyWorker"].live == 0  # cold until the first message asks for it


def test_a_message_is_answered_by_the_worker_the_route_invoked(gw):
    ws = websocket.create_connection(gw.url, timeout=10)
    try:
        ws.send(json.dumps({"action": "sendmessage", "text": "hello worker"}))

        reply = json.loads(ws.recv())

        worker = gw.model.functions["ReplyWorker"].name
        assert reply == {"action": "reply", "text": "HELLO WORKER", "worker": worker}
        connection_id = gw.connection_ids[0]
    finally:
        ws.close()
    connections = gw.runtimes["ConnectionFunction"]
    deadline = time.monotonic() + 5
    while connections.invocations < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert connections.invocations == 2  # $connect, then $disconnect after the close
    assert connection_id not in gw.connection_ids
    assert gw.runtimes["ReplyWorker"].live == 1
