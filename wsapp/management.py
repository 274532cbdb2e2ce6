"""A thin wrapper over boto3's ``apigatewaymanagementapi`` client (the ``@connections`` API, reference §6).

``GoneException`` (410) is not an error here: the connection closed, so the wrapper says so with
:data:`Delivery.GONE` and drops the stale row from the connection store.
"""

from __future__ import annotations

import enum
import json
import os
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from wsapp.events import WebSocketEvent
    from wsapp.store import ConnectionStore

ENDPOINT_ENV = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"

# Short timeouts: a post is a small request to a regional endpoint; a Lambda must not hang on one.
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class Delivery(enum.Enum):
    SENT = "sent"
    GONE = "gone"


def endpoint_for(event: WebSocketEvent, env: Mapping[str, str] = os.environ) -> str:
    """``https://{domainName}/{stage}`` from the event, unless the environment names an endpoint.

    The override is the SDK's own per-service variable, so an unmodified boto3 would honour it too.
    """
    override = env.get(ENDPOINT_ENV)
    if override:
        return override.rstrip("/")
    return f"https://{event.domain_name}/{event.stage}"


_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


def client_for(endpoint: str) -> Any:
    """One lazily created client per endpoint per container (clients are thread-safe and costly).

    The region comes from an ``execute-api`` endpoint's host name when it has one, so the client
    also works outside Lambda where no region is configured.
    """
    client = _clients.get(endpoint)
    if client is None:
        with _clients_lock:
            client = _clients.get(endpoint)
            if client is None:
                match = _REGION_IN_HOST.search(endpoint)
                client = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=endpoint,
                    config=_CONFIG,
                    region_name=match.group(1) if match else None,
                )
                _clients[endpoint] = client
    return client


def _encode(data: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data, separators=(",", ":")).encode()


class ConnectionsClient:
    """Send to, inspect and close connections of one API stage."""

    def __init__(self, endpoint: str, *, client: Any = None, store: ConnectionStore | None = None) -> None:
        self.endpoint = endpoint
        self._client = client
        self._store = store

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client_for(self.endpoint)
        return self._client

    def _gone(self, connection_id: str) -> Delivery:
        if self._store is not None:
            self._store.delete(connection_id)
        return Delivery.GONE

    def post(self, connection_id: str, data: bytes | str | Mapping[str, Any]) -> Delivery:
        """Send one message; a dict is sent as compact JSON."""
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=_encode(data))
        except self.client.exceptions.GoneException:
            return self._gone(connection_id)
        return Delivery.SENT

    def info(self, connection_id: str) -> dict[str, Any] | None:
        """``get_connection``'s answer (ConnectedAt, Identity, LastActiveAt), or None when gone."""
        try:
            answer = self.client.get_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            self._gone(connection_id)
            return None
        answer.pop("ResponseMetadata", None)
        return answer

    def close(self, connection_id: str) -> Delivery:
        """Close the connection (API Gateway closes with 1000 and then invokes ``$disconnect``)."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            return self._gone(connection_id)
        return Delivery.SENT
