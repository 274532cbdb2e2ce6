"""Small templates and handler modules written into temporary folders (``CodeUri: .``).

They prove that the emulator runs *any* template, and they produce the cases wsapp's own handlers never
do (an authorizer that times out, a ``$connect`` that answers 302, a route that returns ``None``...).
Every app gets a module name of its own: one process imports them all (see the report on shared names).
"""

from __future__ import annotations

# ruff: noqa: E501 - the templates and the handler module are text, kept on readable lines
import base64
import json
import os
import socket
import struct
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import websocket
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    CodeUri: .
    Timeout: 3
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: lab
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: "$request.body.action"
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: prod
      AutoDeploy: true
"""


def function(name: str, handler: str, timeout: int = 3) -> str:
    return f"""\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Handler: {handler}
      Timeout: {timeout}
"""


def integration(name: str, function_name: str, timeout_ms: int | None = None) -> str:
    extra = f"\n      TimeoutInMillis: {timeout_ms}" if timeout_ms else ""
    return f"""\
  {name}:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function_name}.Arn}}/invocations"{extra}
"""


def route(name: str, key: str, target: str, *, two_way: bool = False, authorizer: str | None = None) -> str:
    text = f"""\
  {name}:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: "{key}"
      Target: !Join ["/", [integrations, !Ref {target}]]
"""
    if authorizer:
        text += f"      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref {authorizer}\n"
    if two_way:
        text += "      RouteResponseSelectionExpression: $default\n"
        text += f"""\
  {name}Response:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref {name}
      RouteResponseKey: $default
"""
    return text


def authorizer(name: str, function_name: str, sources: list[str]) -> str:
    listed = "".join(f"\n        - {s}" for s in sources) if sources else " []"
    return f"""\
  {name}:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: {name}
      AuthorizerType: REQUEST
      AuthorizerUri: !Sub "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function_name}.Arn}}/invocations"
      IdentitySource:{listed}
"""


# -- the lab: one API with every behaviour the tests need, switched by query string and route key ------

LAB_HANDLERS = '''\
"""Lab handlers: capture every event; behave as the query string / route key says."""

import json
import os
import threading
import time

import boto3

CAPTURE = {capture!r}
_lock = threading.Lock()


def capture(event, kind):
    with _lock, open(CAPTURE, "a") as f:
        f.write(json.dumps({{"kind": kind, "event": event}}) + "\\n")


def _policy(effect, resource):
    return {{"Version": "2012-10-17",
            "Statement": [{{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}}]}}


def authorize(event, context):
    capture(event, "AUTHORIZER")
    mode = (event.get("queryStringParameters") or {{}}).get("auth", "")
    arn = event["methodArn"]
    stage_prefix = arn.rsplit("/", 1)[0]  # arn:...:apiId/prod
    context_ = {{"tenant": "t-42", "tier": 3, "admin": False}}
    if mode == "unauthorized":
        raise Exception("Unauthorized")
    if mode == "raise":
        raise RuntimeError("authorizer bug")
    if mode == "sleep":
        time.sleep(1.0)
    if mode == "garbage":
        return {{"statusCode": 401}}
    if mode == "deny":
        return {{"principalId": "user-1", "policyDocument": _policy("Deny", arn)}}
    if mode == "wildcard":  # .../prod/*/* does not match .../prod/$connect
        return {{"principalId": "user-1", "policyDocument": _policy("Allow", stage_prefix + "/*/*")}}
    if mode == "star":
        return {{"principalId": "user-1", "policyDocument": _policy("Allow", stage_prefix + "/*")}}
    if mode == "otherstage":
        other = stage_prefix.rsplit("/", 1)[0] + "/dev/$connect"
        return {{"principalId": "user-1", "policyDocument": _policy("Allow", other)}}
    if mode == "denywins":
        doc = _policy("Allow", arn)
        doc["Statement"].append({{"Action": "execute-api:*", "Effect": "Deny", "Resource": stage_prefix + "/*"}})
        return {{"principalId": "user-1", "policyDocument": doc}}
    if mode == "noprincipal":
        return {{"policyDocument": _policy("Allow", arn)}}
    if mode == "badcontext":
        return {{"principalId": "user-1", "policyDocument": _policy("Allow", arn), "context": {{"a": {{"b": 1}}}}}}
    return {{"principalId": "user-1", "policyDocument": _policy("Allow", arn), "context": context_}}


def _management():
    return boto3.client("apigatewaymanagementapi")


def app(event, context):
    ctx = event["requestContext"]
    kind = ctx["eventType"]
    capture(event, kind)
    if kind == "CONNECT":
        query = event.get("queryStringParameters") or {{}}
        mode = query.get("connect", "")
        if mode == "raise":
            raise RuntimeError("connect bug")
        if mode.isdigit():
            return {{"statusCode": int(mode), "body": "rejected"}}
        if mode == "empty":  # an empty object: no statusCode
            return {{}}
        if mode == "null":
            return None
        if mode == "proto":
            return {{"statusCode": 200, "headers": {{"Sec-WebSocket-Protocol": query["proto"], "X-Other": "x"}}}}
        if mode == "postself":  # @connections during $connect: 410
            try:
                _management().post_to_connection(ConnectionId=ctx["connectionId"], Data=b"too early")
                outcome = "posted"
            except Exception as exc:
                outcome = getattr(exc, "response", {{}}).get("Error", {{}}).get("Code", repr(exc))
            capture({{"connectionId": ctx["connectionId"], "outcome": outcome}}, "POSTSELF")
        if mode == "sleep":
            time.sleep(float(query.get("seconds", "1")))
        return {{"statusCode": 200}}
    if kind == "DISCONNECT":
        return {{"statusCode": 200}}
    key = ctx["routeKey"]
    if key == "boom":
        raise RuntimeError("message bug")
    if key == "none":
        return None
    if key == "extra":
        return {{"statusCode": 200, "ConnectionId": ctx["connectionId"]}}
    if key == "slow":
        time.sleep(1.0)
        return {{"statusCode": 200, "body": "too late"}}
    if key == "oneway":
        return {{"statusCode": 200, "body": "never sent"}}
    if key == "status500":
        return {{"statusCode": 500, "body": "delivered anyway"}}
    if key == "nobody":
        return {{"statusCode": 200}}
    if key == "post":
        _management().post_to_connection(ConnectionId=ctx["connectionId"], Data=b"posted by the handler")
        return {{"statusCode": 200}}
    return {{"statusCode": 200, "body": json.dumps(event)}}  # $default, Ping: the event, for inspection
'''


def lab_template() -> str:
    return (
        HEADER
        + function("AuthFunction", "lab_handlers.authorize")
        + function("AppFunction", "lab_handlers.app")
        + authorizer("Auth", "AuthFunction", ["route.request.querystring.auth"])
        + integration("AppIntegration", "AppFunction")
        + integration("SlowIntegration", "AppFunction", timeout_ms=200)
        + route("ConnectRoute", "$connect", "AppIntegration", authorizer="Auth")
        + route("DisconnectRoute", "$disconnect", "AppIntegration")
        + route("DefaultRoute", "$default", "AppIntegration", two_way=True)
        + route("PingRoute", "Ping", "AppIntegration", two_way=True)
        + route("BoomRoute", "boom", "AppIntegration")
        + route("NoneRoute", "none", "AppIntegration")
        + route("ExtraRoute", "extra", "AppIntegration", two_way=True)
        + route("SlowRoute", "slow", "SlowIntegration", two_way=True)
        + route("OneWayRoute", "oneway", "AppIntegration")
        + route("Status500Route", "status500", "AppIntegration", two_way=True)
        + route("NoBodyRoute", "nobody", "AppIntegration", two_way=True)
        + route("PostRoute", "post", "AppIntegration")
    )


def write_lab(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    capture = folder / "events.jsonl"
    capture.touch()
    (folder / "lab_handlers.py").write_text(LAB_HANDLERS.format(capture=str(capture)))
    (folder / "template.yaml").write_text(lab_template())
    return folder / "template.yaml"


# -- an API without $default (Forbidden frames) ------------------------------------------------------

NO_DEFAULT_HANDLERS = """\
def handler(event, context):
    return {"statusCode": 200, "body": "hello from " + event["requestContext"]["routeKey"]}
"""


def write_no_default(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodefault_handlers.py").write_text(NO_DEFAULT_HANDLERS)
    (folder / "template.yaml").write_text(
        HEADER
        + function("Fn", "nodefault_handlers.handler")
        + integration("Integration", "Fn")
        + route("HelloRoute", "hello", "Integration", two_way=True)
    )
    return folder / "template.yaml"


# -- a minimal echo API (events without a query string, determinism, dev loop) ----------------------


def write_echo(
    folder: Path, module: str, body_expression: str = "json.dumps(event)", *, with_authorizer: bool = False
) -> Path:
    """``$default`` (two-way) answers ``body_expression``; every event is captured in events.jsonl.

    With ``with_authorizer``, ``$connect`` has a REQUEST authorizer with no identity sources (so it is
    invoked on every connect) that allows everyone.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").touch()
    write_echo_module(folder, module, body_expression)
    text = HEADER + function("Fn", f"{module}.handler") + integration("Integration", "Fn")
    if with_authorizer:
        text += function("AuthFn", f"{module}.authorize") + authorizer("Auth", "AuthFn", [])
    text += (
        route("ConnectRoute", "$connect", "Integration", authorizer="Auth" if with_authorizer else None)
        + route("DisconnectRoute", "$disconnect", "Integration")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def write_echo_module(folder: Path, module: str, body_expression: str) -> Path:
    path = folder / f"{module}.py"
    capture = folder / "events.jsonl"
    path.write_text(
        textwrap.dedent(f"""\
            import json
            import threading

            _lock = threading.Lock()


            def capture(event, kind):
                with _lock, open({str(capture)!r}, "a") as f:
                    f.write(json.dumps({{"kind": kind, "event": event}}) + "\\n")


            def authorize(event, context):
                capture(event, "AUTHORIZER")
                statement = {{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}}
                return {{"principalId": "anyone", "policyDocument": {{"Version": "2012-10-17", "Statement": [statement]}}}}


            def handler(event, context):
                kind = event["requestContext"]["eventType"]
                capture(event, kind)
                if kind != "MESSAGE":
                    return {{"statusCode": 200}}
                return {{"statusCode": 200, "body": {body_expression}}}
            """)
    )
    return path


# -- helpers for the tests ---------------------------------------------------------------------------

DEADLINE = 5.0  # seconds any single wait may take


class Captured:
    """The lab's capture file: every event its handlers saw, one JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[dict]:
        out = []
        # A handler in another execution environment may be appending right now: a last line without
        # its newline is still being written, so it is left for the next read.
        for line in self.path.read_text().splitlines(keepends=True):
            if line.endswith("\n") and line.strip():
                out.append(json.loads(line))
        return out

    def find(self, kind: str, connection_id: str | None = None) -> list[dict]:
        found = []
        for item in self.all():
            if item["kind"] != kind:
                continue
            event = item["event"]
            cid = event.get("connectionId") or event.get("requestContext", {}).get("connectionId")
            if connection_id is None or cid == connection_id:
                found.append(event)
        return found

    def wait(self, kind: str, connection_id: str, timeout: float = DEADLINE) -> dict:
        """The first ``kind`` event of ``connection_id``, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(kind, connection_id)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} event for {connection_id} within {timeout}s")
            time.sleep(0.02)


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)


def management(gw: Any) -> Any:
    """A boto3 ``apigatewaymanagementapi`` client for the gateway (dummy credentials, no retries)."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gw.management_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
    )


def open_ws(gw: Any, query: str = "auth=allow", **kwargs: Any) -> websocket.WebSocket:
    """A websocket-client connection to the gateway; every recv times out after DEADLINE seconds."""
    url = gw.url + (f"?{query}" if query else "")
    return websocket.create_connection(url, timeout=DEADLINE, **kwargs)


def connection_id_of(gw: Any, ws: websocket.WebSocket, before: set[str]) -> str:
    """The id of the connection ``ws`` just opened (the one not in ``before``)."""
    new = wait_until(lambda: set(gw.connection_ids) - before, what="a new connection id")
    assert len(new) == 1, new
    return next(iter(new))


def raw_handshake(gw: Any, query: str = "", protocols: str | None = None) -> tuple[int, dict[str, str]]:
    """Send an upgrade request on a plain socket; the response's status and headers (lower-cased names).

    No client library in between: nothing selects, checks or hides a subprotocol or a status.
    """
    path = f"/{gw.model.stage}" + (f"?{query}" if query else "")
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {gw.host}:{gw.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if protocols is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocols}")
    with socket.create_connection((gw.host, gw.port), timeout=DEADLINE) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def handshake_status(gw: Any, query: str) -> int:
    """The HTTP status the gateway answers an upgrade request with (101 when accepted)."""
    return raw_handshake(gw, query)[0]


def signed_headers(gw: Any, method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """SigV4 headers for a raw request to ``url`` (botocore signs it, as the SDK would)."""
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials("x", "y"), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def close_code(ws: websocket.WebSocket) -> int | None:
    """Read (data and pongs included) until the server's close frame, answer it; its status code."""
    while True:
        frame = ws.recv_frame()  # raw: no automatic close reply (the socket may already be gone)
        if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
            break
    code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else None
    try:
        ws.send_close(code or 1000)  # complete the closing handshake, as a client does
    except (websocket.WebSocketConnectionClosedException, OSError):
        pass
    ws.shutdown()
    return code
