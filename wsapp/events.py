"""Read-only typed views over the event dicts API Gateway sends (reference §1-2).

The views keep the raw dict and read fields on access, as Powertools' ``DictWrapper`` does, so they
never go stale and never fail on a key the event type does not carry until that key is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from wsapp.errors import BadMessage

# The reason goes back to the client, so it names JSON's types, not Python's (``list``, ``NoneType``).
_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


class _View(Mapping[str, Any]):
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def raw_event(self) -> Mapping[str, Any]:
        return self._data

    @property
    def _ctx(self) -> Mapping[str, Any]:
        return self._data["requestContext"]

    def header(self, name: str) -> str | None:
        """A request header, matched case-insensitively (clients choose the casing; AWS keeps it)."""
        wanted = name.lower()
        for key, value in (self._data.get("headers") or {}).items():
            if key.lower() == wanted:
                return value
        return None


class WebSocketEvent(_View):
    """A CONNECT, MESSAGE or DISCONNECT proxy event."""

    @property
    def event_type(self) -> str:
        """``CONNECT``, ``MESSAGE`` or ``DISCONNECT``."""
        return self._ctx["eventType"]

    @property
    def route_key(self) -> str:
        """The selected route: ``$connect``, ``$disconnect``, ``$default`` or a custom key."""
        return self._ctx["routeKey"]

    @property
    def connection_id(self) -> str:
        return self._ctx["connectionId"]

    @property
    def request_id(self) -> str:
        return self._ctx["requestId"]

    @property
    def domain_name(self) -> str:
        return self._ctx["domainName"]

    @property
    def stage(self) -> str:
        return self._ctx["stage"]

    @property
    def api_id(self) -> str:
        return self._ctx["apiId"]

    @property
    def connected_at(self) -> int:
        """Epoch milliseconds; fixed for the life of the connection."""
        return self._ctx["connectedAt"]

    @property
    def source_ip(self) -> str:
        return self._ctx["identity"]["sourceIp"]

    @property
    def user_agent(self) -> str | None:
        """Present only when the handshake carried a User-Agent."""
        return self._ctx["identity"].get("userAgent")

    @property
    def principal_id(self) -> str | None:
        """The authorizer's principalId, replayed on every event of the connection."""
        return (self._ctx.get("authorizer") or {}).get("principalId")

    @property
    def authorizer_context(self) -> Mapping[str, Any]:
        return self._ctx.get("authorizer") or {}

    @property
    def offered_subprotocols(self) -> list[str]:
        """CONNECT only: the values the client offered in ``Sec-WebSocket-Protocol``, in order."""
        raw = self.header("Sec-WebSocket-Protocol") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]

    @property
    def body(self) -> str | None:
        """MESSAGE only: the frame text, verbatim."""
        return self._data.get("body")

    @property
    def disconnect_status_code(self) -> int | None:
        """DISCONNECT only: the WebSocket close code."""
        return self._ctx.get("disconnectStatusCode")

    @property
    def disconnect_reason(self) -> str | None:
        return self._ctx.get("disconnectReason")

    @cached_property
    def json_body(self) -> dict[str, Any]:
        """The MESSAGE body parsed as a JSON object; :class:`BadMessage` says why it is not one."""
        text = self.body
        if text is None:
            raise BadMessage("the event has no body")
        try:
            value = json.loads(text)
        except ValueError:
            raise BadMessage("the body is not valid JSON") from None
        except RecursionError:  # valid JSON, but nested deeper than the parser can go
            raise BadMessage("the body is JSON nested too deeply to read") from None
        if not isinstance(value, dict):
            kind = _JSON_TYPE_NAMES.get(type(value), "null")
            raise BadMessage(f"the body is JSON {kind}, not an object")
        return value


class AuthorizerRequestEvent(_View):
    """The REQUEST authorizer event for ``$connect`` (reference §2.1)."""

    @property
    def method_arn(self) -> str:
        """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect``."""
        return self._data["methodArn"]

    @property
    def connection_id(self) -> str:
        return self._ctx["connectionId"]

    @property
    def request_id(self) -> str:
        return self._ctx["requestId"]

    @property
    def query(self) -> Mapping[str, str]:
        return self._data.get("queryStringParameters") or {}
