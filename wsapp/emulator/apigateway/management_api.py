"""The ``@connections`` Management API (reference §6), served on the gateway's port and in-process.

POST/GET/DELETE ``/{stage}/@connections/{id}`` → 200/200/204; 410 ``GoneException`` with an empty
body for unknown, closed and still-connecting ids; 413 over 131,072 bytes; SigV4 required.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote

from aiohttp import web

from wsapp.emulator.apigateway import sigv4
from wsapp.emulator.apigateway.config import Behaviour, Limits
from wsapp.emulator.apigateway.connections import Connection, Registry
from wsapp.emulator.apigateway.ids import Clock, iso8601
from wsapp.emulator.apigateway.observer import Observer

DELETED = (1000, "Connection Closed Normally")  # what $disconnect reports after DELETE [OBS boto3#3789]


class Sockets(Protocol):
    """What the API needs of the WebSocket side: write a frame now, close a connection soon."""

    def send_now(self, conn: Connection, data: str | bytes) -> bool: ...

    def close_soon(self, conn: Connection, code: int, reason: str) -> None: ...


class ManagementApi:
    """The calls act on the stage's connection registry; frames and closes go through ``sockets``."""

    def __init__(
        self,
        stage: str,
        connections: Registry,
        sockets: Sockets,
        *,
        limits: Limits,
        behaviour: Behaviour,
        clock: Clock,
        credentials: tuple[str, str] | None,
    ) -> None:
        self.stage, self.connections, self.sockets = stage, connections, sockets
        self.limits, self.behaviour, self.clock, self.credentials = limits, behaviour, clock, credentials
        self.observer: Observer | None = None  # told of every call decided (the inspector)

    async def management(self, request: web.Request) -> web.StreamResponse:
        connection_id = self.connection_id_of(request.raw_path)
        if connection_id is None:
            return _response(403, *_error("ForbiddenException", "Forbidden"))
        body = await request.read()
        url = f"{request.scheme}://{request.host}{request.raw_path}"
        status, headers, payload = await self.manage(
            request.method, connection_id, body, signed=(url, request.headers)
        )
        return _response(status, headers, payload)

    def connection_id_of(self, raw_path: str) -> str | None:
        """The id in ``/{stage}/@connections/{id}`` (``@`` and ``=`` may come percent-encoded), or None.

        An endpoint given with a trailing ``/`` makes the AWS SDK for JavaScript v3 send
        ``/{stage}//@connections/{id}`` (botocore collapses it); SigV4 signs the path with the empty
        segment removed. Accepted unless ``Behaviour.empty_segment_before_connections`` is off.
        """
        _, _, path = raw_path.split("?", 1)[0].partition("/")
        stage, _, rest = path.partition("/")
        if self.behaviour.empty_segment_before_connections:
            rest = rest.lstrip("/")
        resource, _, connection_id = rest.partition("/")
        if unquote(stage) != self.stage or unquote(resource) != "@connections" or not connection_id:
            return None
        return unquote(connection_id)

    async def manage(
        self,
        method: str,
        connection_id: str,
        body: bytes,
        *,
        signed: tuple[str, Mapping[str, str]] | None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One Management API call on the gateway's loop: (status, headers, body)."""
        return self.manage_now(method, connection_id, body, signed=signed, schedule=lambda work: work())

    def manage_now(
        self,
        method: str,
        connection_id: str,
        body: bytes,
        *,
        signed: tuple[str, Mapping[str, str]] | None,
        schedule: Callable[[Callable[[], Any]], None],
    ) -> tuple[int, dict[str, str], bytes]:
        """Decide a Management API call at once, from any thread; ``schedule`` runs socket work on the loop.

        Like API Gateway, a 200 means the message was accepted for the connection; the frame is written
        right after. Deciding in the caller's thread lets a function's in-process SDK call return
        without waiting for the gateway's loop to take its turn.
        """
        answer = self._decide(method, connection_id, body, signed, schedule)
        if self.observer is not None:
            self.observer.post(method, connection_id, answer[0], len(body))
        return answer

    def _decide(
        self,
        method: str,
        connection_id: str,
        body: bytes,
        signed: tuple[str, Mapping[str, str]] | None,
        schedule: Callable[[Callable[[], Any]], None],
    ) -> tuple[int, dict[str, str], bytes]:
        if self.behaviour.require_sigv4:
            url, headers = signed if signed is not None else ("", {})
            problem = sigv4.check(method, url, headers, body, credentials=self.credentials)
            if problem is not None:
                return (403, *_error("ForbiddenException", problem))
        if method not in ("POST", "GET", "DELETE"):
            return (403, *_error("ForbiddenException", "Forbidden"))
        if method == "POST" and len(body) > self.limits.post_bytes:
            return (413, *_error("PayloadTooLargeException", "Request entity too large"))
        conn = self.connections.open(connection_id)
        if conn is None:
            return GONE
        if method == "GET":
            answer = {
                "connectedAt": iso8601(conn.connected_at),
                "identity": conn.identity,
                "lastActiveAt": iso8601(conn.last_active_at),
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        if method == "DELETE":
            schedule(lambda: self.sockets.close_soon(conn, *DELETED))
            return 204, {}, b""
        payload: str | bytes = body
        try:
            payload = body.decode()
        except UnicodeDecodeError:
            if not self.behaviour.binary_for_non_utf8:
                payload = body.decode(errors="replace")
        conn.last_active_monotonic = time.monotonic()  # outbound data counts as activity [OBS hotsock]
        conn.last_active_at = self.clock()
        schedule(lambda: self.sockets.send_now(conn, payload))
        return 200, {}, b""


# 410 with the error type in a header and an empty body, as API Gateway answers [OBS aws-sdk-js#3773].
GONE: tuple[int, dict[str, str], bytes] = (410, {"x-amzn-ErrorType": "GoneException"}, b"")


def _error(kind: str, message: str) -> tuple[dict[str, str], bytes]:
    return {"x-amzn-ErrorType": kind, "Content-Type": "application/json"}, json.dumps(
        {"message": message}
    ).encode()


def _response(status: int, headers: dict[str, str], body: bytes) -> web.Response:
    headers = {"Content-Type": "application/json", **headers}
    return web.Response(status=status, body=body, headers=headers)
