"""Build the events API Gateway sends, key for key (reference §1-2).

Key order follows captures of the real service, so printed events look like CloudWatch's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wsapp.emulator.apigateway.connections import Connection
from wsapp.emulator.apigateway.ids import request_time

# Handshake headers API Gateway does not pass to $connect (the authorizer event keeps them).
_HOP_BY_HOP = {"connection", "upgrade", "content-length"}


@dataclass(frozen=True)
class Handshake:
    """What the client sent when it opened the connection."""

    headers: Sequence[tuple[str, str]]  # in order, repeated names kept
    query: Sequence[tuple[str, str]]
    trace_id: str
    forwarded_port: str
    forwarded_proto: str


def _single(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out[key] = value  # the last value wins in the single-value map
    return out


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _with_gateway_headers(handshake: Handshake, source_ip: str, *, hop_by_hop: bool) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in handshake.headers if hop_by_hop or k.lower() not in _HOP_BY_HOP]
    headers = [(k, v) for k, v in headers if not k.lower().startswith("x-forwarded-")]
    if hop_by_hop and not any(k.lower() == "content-length" for k, _ in headers):
        headers.append(("content-length", "0"))
    headers += [
        ("X-Amzn-Trace-Id", handshake.trace_id),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", handshake.forwarded_port),
        ("X-Forwarded-Proto", handshake.forwarded_proto),
    ]
    return headers


@dataclass(frozen=True)
class Stage:
    api_id: str
    stage: str
    region: str
    account_id: str
    stage_variables: Mapping[str, str]

    def method_arn(self, route_key: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{route_key}"


def request_context(
    stage: Stage,
    conn: Connection,
    *,
    route_key: str,
    event_type: str,
    request_id: str,
    now_ms: int,
    authorizer: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    disconnect: tuple[int, str] | None = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {"routeKey": route_key}
    if authorizer is not None:
        ctx["authorizer"] = dict(authorizer)
    if message_id is not None:
        ctx["messageId"] = message_id
    if disconnect is not None:
        ctx["disconnectStatusCode"] = disconnect[0]
    ctx |= {
        "eventType": event_type,
        "extendedRequestId": request_id,  # equal to requestId for WebSocket APIs [DOC]
        "requestTime": request_time(now_ms),
        "messageDirection": "IN",
    }
    if disconnect is not None:
        ctx["disconnectReason"] = disconnect[1]
    ctx |= {
        "stage": stage.stage,
        "connectedAt": conn.connected_at,
        "requestTimeEpoch": now_ms,
        "identity": conn.identity,
        "requestId": request_id,
        "domainName": conn.domain_name,
        "connectionId": conn.connection_id,
        "apiId": stage.api_id,
    }
    return ctx


def authorizer_event(
    stage: Stage, conn: Connection, handshake: Handshake, *, request_id: str, now_ms: int
) -> dict[str, Any]:
    """REQUEST authorizer input: keeps Connection/Upgrade/content-length; query/stage maps always set."""
    headers = _with_gateway_headers(handshake, conn.source_ip, hop_by_hop=True)
    ctx = request_context(
        stage, conn, route_key="$connect", event_type="CONNECT", request_id=request_id, now_ms=now_ms
    )
    return {
        "type": "REQUEST",
        "methodArn": stage.method_arn("$connect"),
        "headers": _single(headers),
        "multiValueHeaders": _multi(headers),
        "queryStringParameters": _single(handshake.query),
        "multiValueQueryStringParameters": _multi(handshake.query),
        "stageVariables": dict(stage.stage_variables),
        "requestContext": ctx,
    }


def connect_event(
    stage: Stage,
    conn: Connection,
    handshake: Handshake,
    *,
    request_id: str,
    now_ms: int,
    authorizer: Mapping[str, Any] | None,
) -> dict[str, Any]:
    headers = _with_gateway_headers(handshake, conn.source_ip, hop_by_hop=False)
    event: dict[str, Any] = {"headers": _single(headers), "multiValueHeaders": _multi(headers)}
    if handshake.query:  # present only when the URL had a query string
        event["queryStringParameters"] = _single(handshake.query)
        event["multiValueQueryStringParameters"] = _multi(handshake.query)
    if stage.stage_variables:  # UNCONFIRMED: expected only when the stage defines some
        event["stageVariables"] = dict(stage.stage_variables)
    event["requestContext"] = request_context(
        stage,
        conn,
        route_key="$connect",
        event_type="CONNECT",
        request_id=request_id,
        now_ms=now_ms,
        authorizer=authorizer,
    )
    event["isBase64Encoded"] = False
    return event


def message_event(
    stage: Stage,
    conn: Connection,
    *,
    route_key: str,
    body: str,
    request_id: str,
    message_id: str,
    now_ms: int,
) -> dict[str, Any]:
    """MESSAGE: only requestContext, body and isBase64Encoded; no headers, no query."""
    event: dict[str, Any] = {
        "requestContext": request_context(
            stage,
            conn,
            route_key=route_key,
            event_type="MESSAGE",
            request_id=request_id,
            now_ms=now_ms,
            authorizer=conn.authorizer,
            message_id=message_id,
        ),
        "body": body,
        "isBase64Encoded": False,
    }
    if stage.stage_variables:
        event["stageVariables"] = dict(stage.stage_variables)
    return event


def disconnect_event(
    stage: Stage,
    conn: Connection,
    *,
    status: int,
    reason: str,
    request_id: str,
    now_ms: int,
) -> dict[str, Any]:
    """DISCONNECT: API Gateway's fixed header set, then the close code and reason."""
    headers = [("Host", conn.domain_name), ("x-api-key", ""), ("X-Forwarded-For", ""), ("x-restapi", "")]
    event: dict[str, Any] = {"headers": _single(headers), "multiValueHeaders": _multi(headers)}
    if stage.stage_variables:
        event["stageVariables"] = dict(stage.stage_variables)
    event["requestContext"] = request_context(
        stage,
        conn,
        route_key="$disconnect",
        event_type="DISCONNECT",
        request_id=request_id,
        now_ms=now_ms,
        authorizer=conn.authorizer,
        disconnect=(status, reason),
    )
    event["isBase64Encoded"] = False
    return event
