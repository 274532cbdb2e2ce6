"""``wsapp connect`` against a small aiohttp WebSocket server on 127.0.0.1 (no emulator, no AWS)."""

from __future__ import annotations

import asyncio
import io
import json
import re

import pytest
from aiohttp import WSMsgType, web

from wsapp.cli import main

TOKEN = "header.payload.signature"
OFFERED = web.AppKey("offered", list)
STAMP = r"\d\d:\d\d:\d\d\.\d\d\d"

pytestmark = pytest.mark.timeout(30)


async def websocket(request: web.Request) -> web.StreamResponse:
    if request.query.get("reject"):
        return web.Response(status=401, text="Unauthorized")  # as API Gateway answers an Unauthorized
    request.app[OFFERED].append(request.headers.get("Sec-WebSocket-Protocol", ""))
    ws = web.WebSocketResponse(protocols=("wsapp.v1",))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        action = json.loads(msg.data).get("action")
        if action == "marco":
            await ws.send_str(json.dumps({"action": "polo"}))
        elif action == "bye":
            await ws.close(code=4000, message=b"bye")
        else:
            await ws.send_str(json.dumps({"echo": msg.data}))
    return ws


@pytest.fixture
async def server(aiohttp_server):
    app = web.Application()
    app[OFFERED] = []
    app.router.add_get("/local", websocket)
    server = await aiohttp_server(app, host="127.0.0.1")
    server.url = f"ws://127.0.0.1:{server.port}/local"
    return server


async def wsapp(*argv: str) -> int:
    # The client blocks, so it runs in a thread while this loop serves the connection.
    return await asyncio.to_thread(main, ["connect", *argv])


async def test_marco_is_answered_polo_and_the_token_is_offered_as_a_subprotocol(server, capsys):
    code = await wsapp(server.url, "--token", TOKEN, "--send", '{"action": "marco"}', "--expect", "polo")
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(rf"^{STAMP} connected: HTTP 101, subprotocol wsapp\.v1$", out, re.M)
    assert re.search(rf'^{STAMP} < {{"action": "polo"}}$', out, re.M)
    assert [p.strip() for p in server.app[OFFERED][0].split(",")] == ["wsapp.v1", TOKEN]


async def test_without_a_token_only_the_application_protocol_is_offered(server, capsys):
    assert await wsapp(server.url, "--send", '{"action": "marco"}', "--expect", "polo") == 0
    assert server.app[OFFERED] == ["wsapp.v1"]


async def test_an_expectation_not_met_in_time_exits_1(server, capsys):
    code = await wsapp(server.url, "--send", '{"action": "echo"}', "--expect", "polo", "--timeout", "0.5")
    captured = capsys.readouterr()
    assert code == 1
    assert "< {" in captured.out and "no frame containing 'polo' within 0.5 s" in captured.err


async def test_the_close_code_and_reason_are_shown(server, capsys):
    code = await wsapp(server.url, "--send", '{"action": "bye"}', "--expect", "polo")
    assert code == 1
    assert re.search(rf"^{STAMP} closed: code 4000 \(bye\)$", capsys.readouterr().out, re.M)


async def test_a_rejected_handshake_shows_the_status_and_exits_2(server, capsys):
    code = await wsapp(server.url + "?reject=1", "--expect", "polo")
    assert code == 2
    assert capsys.readouterr().err.strip() == "wsapp connect: handshake rejected: HTTP 401"


async def test_nothing_listening_is_a_connection_error(capsys, unused_tcp_port):
    assert await wsapp(f"ws://127.0.0.1:{unused_tcp_port}/local", "--timeout", "2") == 2
    assert "cannot connect to ws://127.0.0.1" in capsys.readouterr().err


async def test_send_must_be_json(server, capsys):
    assert await wsapp(server.url, "--send", "marco") == 2
    assert "--send wants JSON" in capsys.readouterr().err


async def test_interactive_lines_are_sent_and_replies_printed_until_end_of_input(server, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"action": "marco"}\n{"action": "marco"}\n'))
    assert await wsapp(server.url, "--timeout", "5") == 0
    out = capsys.readouterr().out
    assert out.count('< {"action": "polo"}') == 2
    assert re.search(rf"^{STAMP} closed: code 1000$", out, re.M)


# -- wss:// --------------------------------------------------------------------------------------------


@pytest.fixture
async def tls_server(aiohttp_server, tmp_path, monkeypatch):
    """The same server over TLS, its certificate from a local CA made in ``tmp_path`` (as ``wsapp local
    --tls`` makes one), which ``WSAPP_TLS_DIR`` names as the default one."""
    from wsapp.emulator.apigateway.tls import LocalCA

    monkeypatch.setenv("WSAPP_TLS_DIR", str(tmp_path / "tls"))
    ca = LocalCA.load_or_create()
    app = web.Application()
    app[OFFERED] = []
    app.router.add_get("/local", websocket)
    server = await aiohttp_server(app, host="127.0.0.1", ssl=ca.server_context(["localhost", "127.0.0.1"]))
    server.url = f"wss://127.0.0.1:{server.port}/local"
    server.ca = str(ca.cert_path)
    return server


async def test_a_loopback_wss_url_trusts_the_local_ca_by_itself(tls_server, capsys):
    assert await wsapp(tls_server.url, "--send", '{"action": "marco"}', "--expect", "polo") == 0
    assert '< {"action": "polo"}' in capsys.readouterr().out


async def test_ca_names_the_certificate_to_trust(tls_server, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("WSAPP_TLS_DIR", str(tmp_path / "elsewhere"))  # no local CA there
    url = tls_server.url.replace("127.0.0.1", "localhost")
    assert await wsapp(url, "--ca", tls_server.ca, "--send", '{"action": "marco"}', "--expect", "polo") == 0


async def test_a_server_whose_ca_is_not_trusted_is_a_certificate_error_in_one_line(
    tls_server, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("WSAPP_TLS_DIR", str(tmp_path / "elsewhere"))
    assert await wsapp(tls_server.url, "--expect", "polo", "--timeout", "5") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"wsapp connect: cannot connect to {tls_server.url}: certificate verify failed: ")
    assert err.endswith("(--ca PEM names the CA to trust)") and "\n" not in err


async def test_a_missing_ca_file_is_a_usage_error(tls_server, capsys, tmp_path):
    assert await wsapp(tls_server.url, "--ca", str(tmp_path / "none.pem")) == 2
    assert capsys.readouterr().err.strip() == f"wsapp connect: --ca {tmp_path / 'none.pem'}: no such file"
