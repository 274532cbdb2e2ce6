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
Answer = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]


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
        self._writers: set[asyncio.StreamWriter] = set()

    def add(self, endpoint: str, answer: Answer, *, blocking: bool = False) -> None:
        self.routes.append(Route(endpoint.rstrip("/") + "/", answer, blocking))

    @property
    def endpoints(self) -> list[str]:
        return [route.prefix for route in self.routes]

    async def start(self) -> str:
        self._dir = tempfile.TemporaryDirectory(prefix="wsapp-sdk-")
        self.path = os.path.join(self._dir.name, "sdk.sock")
        self._server = await asyncio.start_unix_server(self._serve, self.path)
        return self.path

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        loop = asyncio.get_running_loop()
        try:
            while True:
                head_size, body_size = _FRAME.unpack(await reader.readexactly(_FRAME.size))
                head = json.loads(await reader.readexactly(head_size))
                body = await reader.readexactly(body_size)
                request = AWSPreparedRequest(head["m"], head["u"], head["h"], body, stream_output=False)
                route = next((r for r in self.routes if request.url.startswith(r.prefix)), None)
                if route is None:
                    answer: dict[str, Any] = {"unreachable": True}
                    payload = b""
                else:
                    try:
                        if route.blocking:
                            status, headers, payload = await loop.run_in_executor(None, route.answer, request)
                        else:
                            status, headers, payload = route.answer(request)
                        answer = {"s": status, "h": dict(headers)}
                    except (OSError, EndpointConnectionError):  # the endpoint is down (an outage)
                        answer, payload = {"unreachable": True}, b""
                raw = json.dumps(answer).encode()
                writer.write(_FRAME.pack(len(raw), len(payload)) + raw + payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the environment went away
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
