"""Secrets kept out of what the inspector shows: tokens, credentials and NoEcho parameter values.

Applied when an entry is served, never when it is recorded (recording stays cheap, and a replay
sends the event as it was). Masked: the token parts of ``Sec-WebSocket-Protocol``, the values of
``Authorization``-like headers, JWT-looking strings anywhere, and every NoEcho parameter's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "[masked]"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-amz-security-token"}
)
PROTOCOL_HEADER = "sec-websocket-protocol"
LONG_PART = 32  # a subprotocol part this long is a credential, not a protocol name


class Masker:
    """Replaces secrets in strings and in JSON-like values (dicts, lists) without changing the input."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would mask ordinary words; a NoEcho parameter that short is no secret anyway.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if "eyJ" in value:
            value = JWT.sub(MASK, value)
        return value

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered in SECRET_HEADERS:
            scheme, space, rest = value.partition(" ")
            return f"{scheme} {MASK}" if space and rest and scheme.isalpha() else MASK
        if lowered == PROTOCOL_HEADER:
            return ", ".join(self._protocol_part(part.strip()) for part in value.split(","))
        return self.text(value)

    def _protocol_part(self, part: str) -> str:
        masked = self.text(part)
        return MASK if masked == part and len(part) >= LONG_PART else masked

    def value(self, value: Any) -> Any:
        """A masked copy of a JSON-like value; ``headers``/``multiValueHeaders`` maps by header rules."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in ("headers", "multiValueHeaders") and isinstance(item, dict):
                    out[key] = {k: self._header_value(k, v) for k, v in item.items()}
                elif key == "identitySource" and isinstance(item, list):  # the authorizer's copies
                    out[key] = [self._header_value(PROTOCOL_HEADER, v) for v in item]
                else:
                    out[key] = self.value(item)
            return out
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def _header_value(self, name: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.header(name, v) if isinstance(v, str) else v for v in value]
        return self.header(name, value) if isinstance(value, str) else self.value(value)
