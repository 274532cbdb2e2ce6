"""The gateway's live connections: id ↔ socket, times, identity, and the authorizer output to replay."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from aiohttp import web


class State(enum.Enum):
    CONNECTING = "connecting"  # authorizer / $connect still running: @connections answers 410
    OPEN = "open"
    CLOSED = "closed"


@dataclass(slots=True)  # one per open connection: 10,000 idle ones should stay small
class Connection:
    connection_id: str
    connected_at: int  # epoch ms, fixed for the life of the connection
    source_ip: str
    user_agent: str | None
    domain_name: str
    state: State = State.CONNECTING
    last_active_at: int = 0  # epoch ms of the last data frame in either direction
    last_active_monotonic: float = 0.0
    opened_monotonic: float = 0.0
    authorizer: Mapping[str, Any] | None = None  # replayed on every later event (reference §1.2)
    ws: web.WebSocketResponse | None = field(default=None, repr=False)
    close_code: int | None = None  # set by whoever closes first (gateway side)
    close_reason: str = ""
    # Done once the 101 has gone out: sends accepted a moment earlier (a fast in-process caller) wait for it.
    opened: asyncio.Future[None] | None = field(default=None, repr=False)
    transport: asyncio.Transport | None = field(default=None, repr=False)  # frames are written to it

    @property
    def identity(self) -> dict[str, str]:
        identity = {"sourceIp": self.source_ip}
        if self.user_agent is not None:
            identity = {"userAgent": self.user_agent, "sourceIp": self.source_ip}
        return identity


class Registry:
    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}

    def add(self, connection: Connection) -> None:
        self._by_id[connection.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self._by_id.pop(connection_id, None)

    def open(self, connection_id: str) -> Connection | None:
        """The connection if it can be posted to: known and past its handshake."""
        connection = self._by_id.get(connection_id)
        return connection if connection is not None and connection.state is State.OPEN else None

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)
