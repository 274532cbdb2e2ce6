"""Answer the SDK's ``@connections`` (and embedded DynamoDB) calls inside this process.

botocore emits ``before-send`` just before a request goes on the wire; a handler that returns a
response ends the request there. Serialisation, parameter validation and error parsing (a 410
becoming ``GoneException``) stay botocore's own, only the socket round trip is skipped. The hook is
registered on boto3's default session, which the functions' clients are created from.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

EVENT = "before-send.apigatewaymanagementapi"


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def response(url: str, status: int, headers: dict[str, str], body: bytes = b"") -> AWSResponse:
    return AWSResponse(url, status, headers, _Raw(body))


Answer = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]


def connection_id(request: AWSPreparedRequest) -> str:
    """The connection id from ``…/@connections/{id}`` (the SDK percent-encodes ``@`` and ``=``)."""
    path = urlsplit(request.url).path
    return unquote(path.rsplit("/", 1)[-1])


def body_of(request: AWSPreparedRequest) -> bytes:
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    return body.encode() if isinstance(body, str) else bytes(body)


def install(answer: Answer, *, endpoint: str | None = None, event: str = EVENT) -> Callable[..., Any]:
    """Route one service's calls to ``answer`` (only those for ``endpoint``, when given)."""
    prefix = endpoint.rstrip("/") + "/" if endpoint else None

    def hook(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if prefix is not None and not request.url.startswith(prefix):
            return None  # another API: let it go over the network
        status, headers, payload = answer(request)
        return response(request.url, status, headers, payload)

    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    session.events.register(event, hook)
    hook.event = event  # type: ignore[attr-defined]
    return hook


def uninstall(hook: Callable[..., Any]) -> None:
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION.events.unregister(hook.event, hook)  # type: ignore[attr-defined]


class PostRecorder:
    """For ``wsapp invoke``: every post is recorded and answered 200, as if the connection were open."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []

    def __call__(self, request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
        method = request.method
        self.calls.append((method, connection_id(request), body_of(request)))
        if method == "GET":  # no live connection exists in a one-off invocation
            return 410, {"x-amzn-ErrorType": "GoneException"}, b""
        return (204 if method == "DELETE" else 200), {}, b""
