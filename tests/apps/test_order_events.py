"""A look-alike of an event-driven shop on EventBridge (a route puts events on a custom bus; rules route
them to functions by pattern; a schedule runs a function every minute): the embedded EventBridge matches
the patterns and applies each target's input, and the Lambda service invokes the functions
asynchronously. End to end over real WebSockets, in both isolations (schedules 60 times faster)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import websocket

from wsapp.emulator import LocalGateway

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "order_events" / "template.yaml"


@pytest.fixture(scope="module", params=["process", "thread"])
def gw(request):
    with LocalGateway(TEMPLATE, isolation=request.param, schedule_scale=1 / 60) as gateway:
        yield gateway


def _next(ws, key: str) -> dict:
    """The next message that has ``key`` (the ticker's ticks arrive in between)."""
    while True:
        message = json.loads(ws.recv())
        if key in message:
            return message


def test_an_event_matching_a_rules_pattern_invokes_its_function_with_the_event(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "order", "item": "teapot", "total": 20}))
        message = _next(ws, "notified")
    finally:
        ws.close()
    event = message["event"]
    assert message["notified"] == "teapot"
    assert event["source"] == "shop.orders" and event["detail-type"] == "OrderPlaced"
    assert (
        event["version"] == "0"
        and event["region"] == "us-east-1"
        and re.fullmatch(r"\d{12}", event["account"])
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["detail"]["total"] == 20 and "ingestion-time" not in event
    assert not any("warning:" in line for line in gw.logs)


def test_only_matching_rules_fire_and_input_path_hands_over_the_detail(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "order", "item": "piano", "total": 900, "type": "OrderQuoted"}))
        big = _next(ws, "big")["big"]  # the numeric pattern matched; the OrderPlaced one did not
        ws.send(json.dumps({"action": "order", "item": "spoon", "total": 2}))
        placed = _next(ws, "notified")
    finally:
        ws.close()
    assert big == {"customer": big["customer"], "item": "piano", "total": 900}
    assert placed["notified"] == "spoon"


def test_a_rate_schedule_invokes_its_function_with_the_targets_input(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        tick = _next(ws, "tick")
    finally:
        ws.close()
    assert tick == {"tick": "minute"}
