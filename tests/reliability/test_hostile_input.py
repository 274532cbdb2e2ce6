"""Hostile input: every frame, path, header and token a client can throw, denied or answered as AWS would.

Two gateways for the whole module: this repository's app (real authorizer and handlers) and a
recorder whose handlers write down every event they see, so "never reached a handler" is checked
against what the handlers actually received. Hypothesis drives the fuzzing with bounded example
counts; after it, both gateways must still answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
from pathlib import Path

import jwt
import pytest
import websocket
from emukit import (
    HEADER,
    Captured,
    authorizer,
    close_code,
    function,
    integration,
    raw_handshake,
    route,
    wait_until,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import Limits, LocalGateway
from wsapp.loadgen import APP_PROTOCOL

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0
TOKEN = issue_token("hostile", secret=LOCAL_DEV_SECRET, ttl=3600)


def fuzz(examples: int) -> settings:
    """Bounded fuzzing: this many examples, no per-example deadline, nothing stored on disk."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


RECORDER = """\
import json
import threading

CAPTURE = {capture!r}
_lock = threading.Lock()


def capture(event, kind):
    with _lock, open(CAPTURE, "a") as f:
        f.write(json.dumps({{"kind": kind, "event": event}}) + "\\n")


def authorize(event, context):
    capture(event, "AUTHORIZER")
    statement = {{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}}
    document = {{"Version": "2012-10-17", "Statement": [statement]}}
    return {{"principalId": "anyone", "policyDocument": document}}


def app(event, context):
    ctx = event["requestContext"]
    capture(event, ctx["eventType"])
    if ctx["eventType"] == "CONNECT":
        proto = (event.get("queryStringParameters") or {{}}).get("proto")
        if proto is not None:
            return {{"statusCode": 200, "headers": {{"Sec-WebSocket-Protocol": proto}}}}
    if ctx["eventType"] != "MESSAGE":
        return {{"statusCode": 200}}
    return {{"statusCode": 200, "body": "echo:" + event["body"][:64]}}
"""


@pytest.fixture(scope="module")
def recorder_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    capture = folder / "events.jsonl"
    capture.touch()
    (folder / "rel_hostile_recorder.py").write_text(RECORDER.format(capture=str(capture)))
    (folder / "template.yaml").write_text(
        HEADER
        + function("Fn", "rel_hostile_recorder.app")
        + function("AuthFn", "rel_hostile_recorder.authorize")
        + authorizer("Auth", "AuthFn", [])
        + integration("Integration", "Fn")
        + route("ConnectRoute", "$connect", "Integration", authorizer="Auth")
        + route("DisconnectRoute", "$disconnect", "Integration")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    return folder / "template.yaml"


@pytest.fixture(scope="module")
def captured(recorder_template: Path) -> Captured:
    return Captured(recorder_template.parent / "events.jsonl")


@pytest.fixture(scope="module")
def recorder(recorder_template: Path):
    with LocalGateway(recorder_template, limits=Limits(connect_rate=0)) as gw:
        yield gw


@pytest.fixture(scope="module")
def app():
    with LocalGateway(REPO / "template.yaml", limits=Limits(connect_rate=0)) as gw:
        yield gw


def app_ws(gw: LocalGateway) -> websocket.WebSocket:
    return websocket.create_connection(gw.url, timeout=WAIT, subprotocols=[APP_PROTOCOL, TOKEN])


def recorder_ws(gw: LocalGateway) -> tuple[websocket.WebSocket, str]:
    before = set(gw.connection_ids)
    ws = websocket.create_connection(gw.url, timeout=WAIT)
    new = wait_until(lambda: set(gw.connection_ids) - before, WAIT, "the new connection")
    return ws, next(iter(new))


class Shared:
    """One connection to the app for a whole fuzz run, reopened only if something closed it."""

    def __init__(self, gw: LocalGateway) -> None:
        self.gw, self.ws = gw, app_ws(gw)

    def exchange(self, text: str) -> dict:
        self.ws.send(text)
        return json.loads(self.ws.recv())

    def still_in_step(self) -> None:
        """No stray frame is queued: the next frame answers this marco."""
        assert self.exchange('{"action":"marco","id":424242}')["id"] == 424242


def masked_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def messages_of(captured: Captured, cid: str) -> list[dict]:
    return captured.find("MESSAGE", cid)


def wait_disconnect(captured: Captured, cid: str) -> None:
    captured.wait("DISCONNECT", cid, WAIT)


# -- text frames to the real app ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
REPLIES = {"default", "polo", "pong", "broadcast", "error"}


@pytest.fixture(scope="module")
def shared(app) -> Shared:
    return Shared(app)


@fuzz(300)
@given(text=st.text(max_size=2000) | json_values.map(json.dumps))
def test_random_text_frames_each_get_exactly_one_answer(shared, figures, text):
    reply = shared.exchange(text)
    assert reply.get("action") in REPLIES, reply
    figures.tried("random text frames (unicode, JSON of any shape)", 1, "one answer each, connection kept")


@fuzz(150)
@given(action=json_values)
def test_route_values_of_every_json_type_go_to_default_unless_a_known_string(shared, figures, action):
    reply = shared.exchange(json.dumps({"action": action, "message": "m"}))
    known = {"marco": "polo", "ping": "pong", "broadcast": "broadcast"}
    expected = known.get(action, "default") if isinstance(action, str) else "default"
    assert reply["action"] == expected, (action, reply)
    figures.tried("`action` values of every JSON type", 1, "`$default` reply unless a known string")


@pytest.mark.parametrize("depth", [100, 1000, 5000, 10_000, 16_000])
def test_deeply_nested_json_is_answered_by_default(shared, figures, depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * (depth // 3) + "1" + "}" * (depth // 3)):
        assert len(body.encode()) <= 32 * 1024
        reply = shared.exchange(body)
        assert reply["action"] == "default", reply
    figures.tried("deeply nested JSON (depth 100 – 16,000)", 2, "`$default` reply; no lost message")


@pytest.mark.parametrize(
    "number",
    ["1e400", "-1e400", "9" * 4000, "9" * 5000, "1" + "0" * 30, "-0.0", "1e-400", "123456789.123456789e300"],
)
def test_huge_numbers_are_answered(shared, figures, number):
    reply = shared.exchange(f'{{"action":"marco","id":{number}}}')
    # Python's JSON reads up to 4,300 digits; longer integers make the body unreadable → $default.
    assert reply["action"] in ("polo", "default"), reply
    assert reply.get("id") in (None, int(number)) if number.isdigit() and len(number) < 4300 else True
    figures.tried("huge numbers (±1e400, 5,000 digits …)", 1, "polo or `$default` reply")


def test_the_shared_connection_is_still_in_step_after_the_fuzzing(shared):
    shared.still_in_step()


# -- frames that must never reach a handler (the recorder) ---------------------------------------------


@fuzz(25)
@given(payload=st.binary(max_size=2048))
def test_binary_frames_close_1003_and_never_reach_a_handler(recorder, captured, figures, payload):
    ws, cid = recorder_ws(recorder)
    ws.send_binary(payload)
    assert close_code(ws) == 1003
    wait_disconnect(captured, cid)
    assert messages_of(captured, cid) == []
    figures.tried("binary frames", 1, "close 1003; no handler invoked")


@fuzz(25)
@given(payload=st.binary(min_size=1, max_size=512).filter(lambda b: not _utf8(b)))
def test_invalid_utf8_text_frames_close_1007_and_never_reach_a_handler(recorder, captured, figures, payload):
    ws, cid = recorder_ws(recorder)
    ws.sock.sendall(masked_frame(websocket.ABNF.OPCODE_TEXT, payload))
    assert close_code(ws) == 1007  # RFC 6455 §8.1 (what API Gateway sends is UNCONFIRMED)
    wait_disconnect(captured, cid)
    assert messages_of(captured, cid) == []
    figures.tried("invalid UTF-8 in text frames", 1, "close 1007; no handler invoked")


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


@fuzz(10)
@given(size=st.integers(32 * 1024 + 1, 200_000), fragments=st.booleans())
def test_oversize_frames_and_messages_close_1009_and_never_reach_a_handler(
    recorder, captured, figures, size, fragments
):
    ws, cid = recorder_ws(recorder)
    if fragments:  # frames within 32 KB, the whole message over 128 KB
        sizes = [30_000] * 5 + [size % 30_000]
        for index, part in enumerate(sizes):
            opcode = websocket.ABNF.OPCODE_TEXT if index == 0 else websocket.ABNF.OPCODE_CONT
            try:
                ws.sock.sendall(masked_frame(opcode, b"x" * part, fin=index == len(sizes) - 1))
            except OSError:
                break  # the gateway already closed
    else:
        try:
            ws.sock.sendall(masked_frame(websocket.ABNF.OPCODE_TEXT, b"x" * size))
        except OSError:
            pass
    assert close_code(ws) == 1009
    wait_disconnect(captured, cid)
    assert messages_of(captured, cid) == []
    figures.tried("oversize frames (> 32 KB) and messages (> 128 KB)", 1, "close 1009; no handler invoked")


# -- @connections paths ------------------------------------------------------------------------------

SIGNATURE = (
    "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


def raw_request(gw: LocalGateway, method: str, path: bytes, body: bytes = b"x") -> int:
    head = (
        method.encode()
        + b" "
        + path
        + b" HTTP/1.1\r\nHost: "
        + f"{gw.host}:{gw.port}".encode()
        + b"\r\nAuthorization: "
        + SIGNATURE.encode()
        + b"\r\nX-Amz-Date: 20240101T000000Z\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((gw.host, gw.port), timeout=WAIT) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.fixture(scope="module")
def victim(recorder):
    ws, cid = recorder_ws(recorder)
    ws.settimeout(0.05)
    yield ws, cid
    ws.close()


TRICKS = ["/", "..", "%2F", "../", "%2e%2e", "..%2F", "%2F..%2F", "ü", "\u202e", "😀", "%F0%9F%98%80", "%00"]


@fuzz(150)
@given(
    pieces=st.lists(st.sampled_from(TRICKS) | st.text(min_size=1, max_size=6), min_size=1, max_size=5),
    method=st.sampled_from(["POST", "GET", "DELETE"]),
    around=st.sampled_from(["alone", "before", "after"]),
)
def test_connection_ids_with_slashes_dots_escapes_and_unicode_reach_no_connection(
    recorder, victim, figures, pieces, method, around
):
    ws, cid = victim
    trick = "".join(pieces)
    ident = {"alone": trick, "before": trick + cid, "after": cid + trick}[around]
    path = f"/{recorder.model.stage}/@connections/{ident}".encode("utf-8", "surrogatepass")
    status = raw_request(recorder, method, path)
    assert status in (400, 403, 404, 410), (ident, status)
    assert cid in recorder.connection_ids  # not deleted
    try:
        leaked = ws.recv()
    except websocket.WebSocketTimeoutException:
        leaked = None
    assert leaked is None, f"{ident!r} reached the connection"
    figures.tried("`@connections` ids with `/`, `..`, `%2F`, unicode", 1, "403/410; no connection touched")


# -- handshakes ----------------------------------------------------------------------------------------


def raw_upgrade(gw: LocalGateway, extra: list[bytes], query: str = "") -> int:
    lines = [
        f"GET /{gw.model.stage}{'?' + query if query else ''} HTTP/1.1".encode(),
        f"Host: {gw.host}:{gw.port}".encode(),
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)),
        b"Sec-WebSocket-Version: 13",
        *extra,
    ]
    with socket.create_connection((gw.host, gw.port), timeout=WAIT) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def calls(gw: LocalGateway, logical: str) -> int:
    return gw.runtimes[logical].invocations


@pytest.mark.parametrize(
    ("values", "lines", "expected"),
    [
        (3000, 1, {400}),  # one header line over aiohttp's 8,190 bytes
        (20_000, 1, {400}),
        (40, 200, {400, 401, 403, 431}),  # 200 header lines of 40 values each
        (1500, 1, {401}),  # fits, but offers no token (only junk values and no wsapp.v1)
    ],
)
def test_thousands_of_subprotocol_values_are_refused_without_connect(app, figures, values, lines, expected):
    before = calls(app, "WebSocketFunction")
    offer = ",".join(f"p{i}" for i in range(values))
    status = raw_upgrade(app, [b"Sec-WebSocket-Protocol: " + offer.encode()] * lines)
    assert status in expected or (expected == {401} and status == 403), status
    assert calls(app, "WebSocketFunction") == before  # $connect never ran
    figures.tried("thousands of subprotocol values", 1, "400/401/403; `$connect` not invoked")


def test_thousands_of_subprotocol_values_beside_a_valid_token_still_get_one_protocol_back(app, figures):
    offer = ",".join([APP_PROTOCOL, TOKEN] + [f"p{i}" for i in range(1000)])
    status, headers = raw_handshake(app, protocols=offer)
    assert (status, headers.get("sec-websocket-protocol")) == (101, APP_PROTOCOL)
    figures.tried(
        "thousands of subprotocol values", 1, "valid token among 1,000 junk values: 101 with `wsapp.v1`"
    )


@pytest.mark.parametrize(
    "line",
    [
        b"Sec-WebSocket-Protocol: wsapp.v1\nX-Injected: 1",  # bare LF
        b"Sec-WebSocket-Protocol: wsapp.v1\x00X-Injected: 1",  # NUL
        b"Sec-WebSocket-Protocol: wsapp.v1\r\n X-Injected: folded",  # obsolete line folding
        b"X-Bad Header: 1",  # space in a header name
        b"X-Bad\x7fHeader: 1",
        b": no name",
    ],
    ids=["bare-LF", "NUL", "obs-fold", "space-in-name", "DEL-in-name", "empty-name"],
)
def test_header_injection_in_the_request_is_400_before_any_handler(recorder, captured, figures, line):
    before = len(captured.find("AUTHORIZER"))
    status = raw_upgrade(recorder, [line])
    assert status == 400, status
    assert len(captured.find("AUTHORIZER")) == before
    figures.tried("header injection in the upgrade request", 1, "400; authorizer not invoked")


@pytest.mark.parametrize(
    "proto", ["a%0D%0AX-Injected:%201", "a%0AX-Injected:%201", "a%0Db", "a%00b", "a%7Fb"]
)
def test_header_injection_through_the_connect_response_is_a_502_without_the_header(recorder, figures, proto):
    before = set(recorder.connection_ids)
    status, headers = raw_handshake(recorder, f"proto={proto}")
    assert status == 502  # a malformed proxy response (UNCONFIRMED status)
    assert "x-injected" not in headers
    time.sleep(0.05)
    assert set(recorder.connection_ids) == before  # nothing left registered
    figures.tried("header injection through `$connect`'s response", 1, "502; header not emitted")


# -- tokens --------------------------------------------------------------------------------------------


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_signed(header: dict, claims: dict, digest) -> str:
    """Signed with the right secret, under the algorithm the header names (no PyJWT key-length warning)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(LOCAL_DEV_SECRET.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def forged_tokens() -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "mallory", "iat": now, "exp": now + 300}
    head, payload, signature = TOKEN.split(".")
    tampered = b64({**json.loads(base64.urlsafe_b64decode(payload + "==")), "sub": "admin"})
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "alg none, good signature": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}",
        "alg HS512": hand_signed({"alg": "HS512", "typ": "JWT"}, claims, hashlib.sha512),
        "wrong key": jwt.encode(claims, "k" * 48, algorithm="HS256"),
        "expired": jwt.encode(
            {**claims, "iat": now - 600, "exp": now - 300}, LOCAL_DEV_SECRET, algorithm="HS256"
        ),
        "not yet valid (nbf)": jwt.encode({**claims, "nbf": now + 300}, LOCAL_DEV_SECRET, algorithm="HS256"),
        "issued in the future (iat)": jwt.encode(
            {**claims, "iat": now + 300}, LOCAL_DEV_SECRET, algorithm="HS256"
        ),
        "tampered payload": f"{head}.{tampered}.{signature}",
        "no signature": f"{head}.{payload}.",
        "no exp": jwt.encode({"sub": "mallory"}, LOCAL_DEV_SECRET, algorithm="HS256"),
    }


def handshake_status(gw: LocalGateway, token: str | None) -> int:
    offer = APP_PROTOCOL if token is None else f"{APP_PROTOCOL}, {token}"
    return raw_upgrade(gw, [b"Sec-WebSocket-Protocol: " + offer.encode()])


@pytest.mark.parametrize("kind", list(forged_tokens()))
def test_forged_tokens_are_403_and_connect_never_runs(app, figures, kind):
    before = calls(app, "WebSocketFunction"), calls(app, "AuthorizerFunction")
    assert handshake_status(app, forged_tokens()[kind]) == 403
    assert calls(app, "WebSocketFunction") == before[0]
    assert calls(app, "AuthorizerFunction") == before[1] + 1
    figures.tried(
        "forged tokens (alg none, wrong key, expired, nbf, tampered …)", 1, "403; `$connect` not invoked"
    )


@fuzz(60)
@given(cut=st.integers(1, len(TOKEN) - 1))
def test_truncated_tokens_are_403(app, figures, cut):
    before = calls(app, "WebSocketFunction")
    assert handshake_status(app, TOKEN[:cut]) == 403
    assert calls(app, "WebSocketFunction") == before
    figures.tried("truncated tokens", 1, "403; `$connect` not invoked")


@fuzz(60)
@given(
    token=st.text(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=400
    )
)
def test_random_token_shaped_strings_are_403(app, figures, token):
    assert token != TOKEN
    before = calls(app, "WebSocketFunction")
    assert handshake_status(app, token) == 403
    assert calls(app, "WebSocketFunction") == before
    figures.tried("random token-shaped strings", 1, "403; `$connect` not invoked")


def test_no_token_is_401_and_a_valid_one_connects(app):
    before = calls(app, "AuthorizerFunction")
    assert raw_upgrade(app, []) == 401  # identity source missing: the authorizer is not invoked
    assert calls(app, "AuthorizerFunction") == before
    assert handshake_status(app, TOKEN) == 101


# -- afterwards ----------------------------------------------------------------------------------------


def test_both_gateways_still_answer_after_all_of_it(app, recorder):
    ws = app_ws(app)
    try:
        ws.send('{"action":"marco","id":7}')
        assert json.loads(ws.recv())["id"] == 7
    finally:
        ws.close()
    ws, _ = recorder_ws(recorder)
    try:
        ws.send("still here?")
        assert ws.recv() == "echo:still here?"
    finally:
        ws.close()
