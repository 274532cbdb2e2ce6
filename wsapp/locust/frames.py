"""What a frame from the API means to a load test: whose reply it is, whether it reports an error.

Plain Python (no gevent): the classification is the same whoever drives the connection.
"""

from __future__ import annotations

import json
from typing import Any

# wsapp's handlers answer a failed action with ``{"action": "error", ...}`` and a message they could
# not dispatch (unknown action, no ``action`` field) with the default action's ``{"action": "default"}``.
ERROR_ACTIONS = ("error", "default")


class WebSocketFailure(Exception):
    """A failed request, as Locust's failure table shows it.

    Locust groups failures by ``repr(exception)``: the text names the kind and what the server said,
    never a connection or request id, so a thousand identical failures are one row.
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}: {self}"


class HandshakeRefused(WebSocketFailure):
    """The upgrade was answered with an HTTP status (403: the authorizer denied; 429/500: throttled)."""


class CannotConnect(WebSocketFailure):
    """No handshake at all: refused, unreachable, timed out, a TLS error, no token."""


class ErrorFrame(WebSocketFailure):
    """The reply was an error frame; the text is its ``message``."""


class ReplyTimeout(WebSocketFailure):
    """No reply within the timeout (a 410 on the server's ``@connections`` post looks like this too)."""


class ConnectionClosed(WebSocketFailure):
    """The server closed the connection (1001 at API Gateway's 2-hour cap or idle timeout) or it dropped."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"{code} {reason}".strip())
        self.code, self.reason = code, reason


def parse(text: str | bytes) -> dict[str, Any] | None:
    """The frame's JSON object, or None for anything else (plain text, binary, a JSON list)."""
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def correlation_of(frame: dict[str, Any]) -> str | None:
    """The correlation id a frame carries back, wherever the action put it.

    ``marco`` echoes ``id``; ``broadcast`` echoes its ``message`` (the load test puts the id there);
    the default action quotes what arrived in ``received``.
    """
    for holder in (frame, frame.get("message"), _quoted(frame.get("received"))):
        if isinstance(holder, dict) and isinstance(holder.get("id"), str):
            return holder["id"]
    return None


def error_text(frame: dict[str, Any], error_actions: tuple[str, ...] = ERROR_ACTIONS) -> str | None:
    """The error a frame reports, or None for a reply or a notification.

    API Gateway's own error frames have no ``action``, a ``message`` and the ``requestId``
    (``{"message": "Internal server error", "connectionId": ..., "requestId": ...}``; "Forbidden"
    when no route matches, "Endpoint request timed out" when the integration overruns).
    """
    message = frame.get("message")
    if not isinstance(message, str):
        return None
    action = frame.get("action")
    if action is None and "requestId" in frame:
        return message
    return message if action in error_actions else None


def _quoted(received: object) -> dict[str, Any] | None:
    return parse(received) if isinstance(received, str) else None
