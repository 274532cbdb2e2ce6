"""Reference §9.2 / §4.2: the 101 carries Sec-WebSocket-Protocol only as ``$connect`` returned it."""

from __future__ import annotations

import aiohttp
from emukit import DEADLINE, raw_handshake


def test_101_has_no_subprotocol_when_connect_returns_none_although_the_client_offered_some(lab):
    status, headers = raw_handshake(lab, "auth=allow", protocols="wsapp.v1, chat")
    assert status == 101
    assert "sec-websocket-protocol" not in headers


def test_101_echoes_exactly_the_subprotocol_connect_returned(lab):
    status, headers = raw_handshake(lab, "auth=allow&connect=proto&proto=chat", protocols="wsapp.v1, chat")
    assert status == 101
    assert headers["sec-websocket-protocol"] == "chat"  # not the first offered one


def test_101_carries_a_returned_subprotocol_even_if_the_client_never_offered_it(lab):
    status, headers = raw_handshake(lab, "auth=allow&connect=proto&proto=Other.Proto", protocols="wsapp.v1")
    assert status == 101
    assert headers["sec-websocket-protocol"] == "Other.Proto"


def test_connect_headers_other_than_sec_websocket_protocol_are_not_forwarded(lab):
    _, headers = raw_handshake(lab, "auth=allow&connect=proto&proto=chat", protocols="chat")
    assert "x-other" not in headers


async def test_aiohttp_client_sees_the_returned_protocol_and_none_when_not_returned(lab):
    timeout = aiohttp.ClientWSTimeout(ws_receive=DEADLINE, ws_close=DEADLINE)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DEADLINE)) as session:
        url = lab.url + "?auth=allow&connect=proto&proto=b"
        async with session.ws_connect(url, protocols=["a", "b"], timeout=timeout) as ws:
            assert ws.protocol == "b"
        async with session.ws_connect(lab.url + "?auth=allow", protocols=["a", "b"], timeout=timeout) as ws:
            assert ws.protocol is None  # never auto-selected
