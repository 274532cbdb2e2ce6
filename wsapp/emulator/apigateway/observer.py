"""What the gateway tells an observer (the inspector's recorder) as it works: every hook is optional.

The gateway holds ``observer: Observer | None`` and calls it only when set, so a gateway nobody
watches pays one attribute test per frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from wsapp.emulator.apigateway.connections import Connection


class Observer(Protocol):
    def refused(self, request: web.Request, status: int, why: str, connection_id: str | None) -> None:
        """A handshake answered with an HTTP status instead of 101."""

    def opened(self, conn: Connection, protocol: str | None) -> None:
        """The 101 went out: the connection is open."""

    def closed(self, conn: Connection, code: int, reason: str, by: str) -> None:
        """The connection is gone; ``by`` is ``client``, ``gateway`` or ``network`` (no close frame)."""

    def frame_in(self, conn: Connection, data: str | bytes) -> None: ...

    def frame_out(self, conn: Connection, data: str | bytes) -> None: ...

    def post(self, method: str, connection_id: str, status: int, size: int) -> None:
        """One ``@connections`` call, decided: its method, status and request body size."""
