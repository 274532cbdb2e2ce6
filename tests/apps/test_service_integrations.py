"""A look-alike of apps whose gateway hands messages to other services: an SQS path integration with a
form-encoded template (a FIFO queue whose worker answers through @connections), SNS action/Publish to a
topic a queue subscribes to, an HTTP integration with request parameters and templates, and HTTP_PROXY.
End to end over real WebSockets, in both isolations; the HTTP backend is a real server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
import websocket
from aiohttp import web

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "service_integrations" / "template.yaml"
SEEN: list[dict] = []  # what the HTTP backend received


async def _quotes(request: web.Request) -> web.Response:
    body = await request.json()
    SEEN.append({"headers": dict(request.headers), "query": dict(request.query), "body": body})
    if body["symbol"] != "AMZN":
        return web.json_response({"message": "no such symbol"}, status=404)
    return web.json_response({"symbol": body["symbol"], "price": 181.5})


async def _echo(request: web.Request) -> web.Response:
    return web.Response(text="echo:" + await request.text(), status=200)


@pytest.fixture(scope="module")
def gateway_parameters():
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/quotes", _quotes)
    app.router.add_post("/echo", _echo)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield {"BackendUrl": f"http://127.0.0.1:{port}"}
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def _receive(ws, action: str) -> dict:
    while True:
        frame = json.loads(ws.recv())
        if frame.get("action") == action:
            return frame


def test_default_route_messages_go_through_a_fifo_queue_to_its_worker(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"group": "g1", "text": "first & last = ok"}))
        reply = _receive(ws, "processed")
    finally:
        ws.close()
    # $util.urlEncode($input.json('$')) carried the body through the form encoding intact.
    body = {"group": "g1", "text": "first & last = ok"}
    assert reply == {"action": "processed", "body": body, "group": "g1"}


def test_announcements_are_published_to_sns_and_delivered_through_the_subscribed_queue(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "announce", "text": "doors open"}))
        frames = [json.loads(ws.recv()), json.loads(ws.recv())]
    finally:
        ws.close()
    frames.sort(key=lambda f: f["action"])
    assert frames == [
        {"action": "announced", "published": True},  # the route response, from the /2\d\d/ template
        {"action": "heard", "text": "doors open"},  # SNS → SQS → worker → @connections
    ]


def test_an_http_integration_maps_parameters_and_selects_responses_by_status(gw):
    SEEN.clear()
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send(json.dumps({"action": "quote", "symbol": "AMZN"}))
        assert json.loads(ws.recv()) == {"action": "quote", "symbol": "AMZN", "price": 181.5}
        ws.send(json.dumps({"action": "quote", "symbol": "NOPE"}))
        assert json.loads(ws.recv()) == {"action": "quote", "error": "unknown symbol"}
    finally:
        ws.close()
    first = SEEN[0]
    assert first["query"] == {"symbol": "AMZN"}
    assert first["body"]["symbol"] == "AMZN"
    assert first["headers"]["X-Connection"] == first["body"]["from"]


def test_http_proxy_passes_the_message_and_the_answer_through(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        ws.send('{"action": "echo", "n": 1}')
        assert ws.recv() == 'echo:{"action": "echo", "n": 1}'
    finally:
        ws.close()
