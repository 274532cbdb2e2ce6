"""The SDK channel: execution environments' botocore calls to local endpoints, answered in this process.

A Python environment's bootstrap (``awslambda/runtimes/python/bootstrap.py``) sends each request for
a listed endpoint over a Unix socket instead of TCP: the request botocore prepared (method, URL,
signed headers, body) goes in, the status, headers and body the real endpoint would answer come back.
Answers are callables by URL prefix; a blocking one (moto's DynamoDB) runs in a thread so the event
loop keeps serving sockets. Framing, both ways: ``!II`` header and body length, a JSON header, the body.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import EndpointConnectionError

_FRAME = struct.Struct("!II")
# (status, headers, body), or None for a request this answer does not take (it goes over HTTP).
Answer = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes] | None]


@dataclass(frozen=True)
class Route:
    prefix: str  # endpoint URL, ending in "/"
    answer: Answer
    blocking: bool  # run in a worker thread (it may take long or hold the GIL)


class SdkChannel:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.path = ""
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_Connection] = set()

    def add(self, endpoint: str, answer: Answer, *, blocking: bool = False) -> None:
        self.routes.append(Route(endpoint.rstrip("/") + "/", answer, blocking))

    @property
    def endpoints(self) -> list[str]:
        return [route.prefix for route in self.routes]

    def route_for(self, url: str) -> Route | None:
        return next((r for r in self.routes if url.startswith(r.prefix)), None)

    async def start(self) -> str:
        self._dir = tempfile.TemporaryDirectory(prefix="wsapp-sdk-")
        self.path = os.path.join(self._dir.name, "sdk.sock")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _Connection(self), self.path)
        return self.path

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.close()
            await self._server.wait_closed()
            self._server = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class _Connection(asyncio.Protocol):
    """One environment thread's connection: requests come one at a time, each answered in order.

    A protocol, not a stream reader: no task and no await per request on the gateway's hot path.
    """

    def __init__(self, channel: SdkChannel) -> None:
        self.channel = channel
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a blocking answer is being computed in a thread

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.channel._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.channel._connections.discard(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        while not self.busy and len(self.buffer) >= _FRAME.size:
            head_size, body_size = _FRAME.unpack_from(self.buffer)
            end = _FRAME.size + head_size + body_size
            if len(self.buffer) < end:
                return
            head = json.loads(self.buffer[_FRAME.size : _FRAME.size + head_size])
            body = bytes(self.buffer[_FRAME.size + head_size : end])
            del self.buffer[:end]
            request = AWSPreparedRequest(head["m"], head["u"], head["h"], body, stream_output=False)
            route = self.channel.route_for(request.url)
            if route is None:
                self._reply({"unreachable": True}, b"")
            elif route.blocking:
                self.busy = True
                future = asyncio.get_running_loop().run_in_executor(None, _answer, route.answer, request)
                future.add_done_callback(self._blocking_done)
            else:
                self._reply(*_answer(route.answer, request))

    def _blocking_done(self, future: asyncio.Future[tuple[dict[str, Any], bytes]]) -> None:
        self.busy = False
        if not future.cancelled():
            self._reply(*future.result())
        self._next()

    def _reply(self, answer: dict[str, Any], payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            raw = json.dumps(answer).encode()
            self.transport.write(_FRAME.pack(len(raw), len(payload)) + raw + payload)


def _answer(answer: Answer, request: AWSPreparedRequest) -> tuple[dict[str, Any], bytes]:
    try:
        result = answer(request)
    except (OSError, EndpointConnectionError):  # the endpoint is down (an outage the tests simulate)
        return {"unreachable": True}, b""
    if result is None:  # not one this answer takes: the environment sends it over HTTP instead
        return {"pass": True}, b""
    status, headers, payload = result
    return {"s": status, "h": dict(headers)}, payload
