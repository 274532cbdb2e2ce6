"""The Lambda Runtime API (``/2018-06-01``), served to one execution environment on its own socket.

As in Lambda, where each sandbox reaches its own Runtime API at ``AWS_LAMBDA_RUNTIME_API``, every
environment gets a listener of its own, so a request needs no further identification. The routes,
statuses and error bodies follow the Runtime Interface Emulator and the Runtime API docs
(lambda-runtime-reference §1.1-§1.3). Requests are parsed with httptools: this server is on the hot
path of every invocation, twice, and aiohttp's request handling costs several times more.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Protocol

import httptools

from wsapp.emulator.awslambda.outcomes import MAX_RESPONSE_BYTES

BASE = b"/2018-06-01/runtime/"

OK = b'{"status":"OK"}'


class Environment(Protocol):
    """What the Runtime API calls on its environment, one method per route."""

    def next_invocation(self, reply: Callable[[bytes], None]) -> None:
        """The runtime asks for work; ``reply(raw_http_response)`` when there is some."""

    def invocation_response(self, request_id: str, body: bytes, content_type: str) -> tuple[int, bytes]: ...

    def invocation_error(self, request_id: str, body: bytes, error_type: str) -> tuple[int, bytes]: ...

    def init_error(self, body: bytes, error_type: str) -> tuple[int, bytes]: ...

    def response_too_large(self, request_id: str) -> None: ...


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def http_response(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> bytes:
    reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    reason |= {413: "Request Entity Too Large", 500: "Internal Server Error"}
    lines = [f"HTTP/1.1 {status} {reason.get(status, 'Unknown')}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers or () if value]  # empty values are omitted
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def next_response(request_id: str, deadline_ms: int, arn: str, trace_id: str, body: bytes) -> bytes:
    """``GET /next``'s answer: the event and the ``Lambda-Runtime-*`` headers (§1.2)."""
    headers = [
        ("Lambda-Runtime-Aws-Request-Id", request_id),
        ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
        ("Lambda-Runtime-Invoked-Function-Arn", arn),
        ("Lambda-Runtime-Trace-Id", trace_id),
    ]
    return http_response(200, body, headers)


class _Connection(asyncio.Protocol):
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.size = 0
        self.too_large = False

    # -- asyncio ------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(http_response(400, error_body("InvalidRequest", "malformed HTTP request")))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    # -- httptools callbacks ------------------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        # curl (the shell bootstraps of the custom-runtime tutorial) waits a second for this.
        if self.headers.get(b"expect", b"").lower() == b"100-continue":
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_RESPONSE_BYTES:
            self.too_large = True
            self.body = []
        elif not self.too_large:
            self.body.append(body)

    def on_message_complete(self) -> None:
        url, headers, body, too_large = self.url, self.headers, b"".join(self.body), self.too_large
        method = self.parser.get_method()
        self._reset()
        self._route(method, url.split(b"?", 1)[0], headers, body, too_large)

    # -- routes -------------------------------------------------------------------------------------
    def _route(
        self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes, too_large: bool
    ) -> None:
        env = self.environment
        if not url.startswith(BASE):
            if url == b"/2018-06-01/ping":
                self._write(http_response(200, b'{"status":"OK"}'))  # kept "to respect Hyrum's Law" [RIE]
            else:
                self._write(http_response(404, error_body("NotFound", "Not Found")))
            return
        path = url[len(BASE) :].decode("latin-1")
        error_type = headers.get(b"lambda-runtime-function-error-type", b"").decode("latin-1")
        if path == "invocation/next" and method == b"GET":
            env.next_invocation(self._write)
            return
        if path == "init/error" and method == b"POST":
            self._write(http_response(*env.init_error(body, error_type)))
            return
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "invocation" and method == b"POST":
            request_id, action = parts[1], parts[2]
            if action == "response":
                if too_large:
                    env.response_too_large(request_id)
                    message = f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                    self._write(http_response(413, error_body("RequestEntityTooLarge", message)))
                    return
                content_type = headers.get(b"content-type", b"application/json").decode("latin-1")
                self._write(http_response(*env.invocation_response(request_id, body, content_type)))
                return
            if action == "error":
                self._write(http_response(*env.invocation_error(request_id, body, error_type)))
                return
        if path.startswith("restore/"):  # SnapStart only; on-demand environments never call it
            self._write(
                http_response(403, error_body("InvalidStateTransition", "not a SnapStart environment"))
            )
            return
        self._write(http_response(404, error_body("NotFound", "Not Found")))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


ACCEPTED = (202, OK)


def invalid_request_id() -> tuple[int, bytes]:
    return 400, error_body("InvalidRequestID", "Invalid request ID")


def invalid_state(detail: str) -> tuple[int, bytes]:
    return 403, error_body("InvalidStateTransition", f"State transition failed for runtime. Error: {detail}")


async def serve(environment: Environment, host: str = "127.0.0.1") -> tuple[asyncio.Server, str]:
    """Listen for one environment's runtime; ``(server, "host:port")`` for ``AWS_LAMBDA_RUNTIME_API``."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(environment), host, 0, backlog=16)
    port = server.sockets[0].getsockname()[1]
    return server, f"{host}:{port}"
