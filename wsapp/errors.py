"""Every exception wsapp's runtime raises. Handlers turn them into responses in one place each."""

from __future__ import annotations


class WsappError(Exception):
    """Root of wsapp's own errors."""


class DuplicateAction(WsappError):
    """Two functions were registered under the same action name (raised at import time)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"action {name!r} is already registered")
        self.name = name


class BadMessage(WsappError):
    """A MESSAGE body that is not a JSON object with a string ``action``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthorized(WsappError):
    """Raised by the authorizer when the identity source is absent.

    Its message is exactly ``Unauthorized``: API Gateway answers the handshake with 401 only when the
    authorizer fails with that exact error message (Lambda authorizer docs; reference §2.3).
    """

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class InvalidToken(WsappError):
    """A token that is present but forged, expired or malformed (the authorizer answers Deny)."""


class ConfigError(WsappError):
    """The function's environment lacks a setting it needs (a deployment mistake, not a client one)."""
