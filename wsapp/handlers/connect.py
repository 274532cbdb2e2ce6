"""``$connect``: admit what the authorizer allowed, choose the subprotocol, record the connection."""

from __future__ import annotations

from typing import Any

from wsapp.auth import app_protocols, split_offer
from wsapp.events import WebSocketEvent
from wsapp.handlers._entry import entry_point
from wsapp.logs import logger
from wsapp.services import Services
from wsapp.store import ConnectionRecord


def choose_subprotocol(event: WebSocketEvent) -> str | None:
    """One of the offered values: the application protocol if offered, else the lone token.

    API Gateway never picks one itself, and a browser that offered protocols drops a handshake whose
    101 names none (reference §4.2), so ``$connect`` must return one.
    """
    header = event.header("Sec-WebSocket-Protocol")
    apps, token = split_offer(header, app_protocols())
    return apps[0] if apps else token


def _failed(event: WebSocketEvent, services: Services | None) -> dict[str, Any]:
    return {"statusCode": 500}


@entry_point(_failed)
def handler(event: WebSocketEvent, services: Services) -> dict[str, Any]:
    principal = event.principal_id
    if not principal:
        # Only an authorizer's Allow puts a principal here; without one nobody vouched for the client.
        logger.warning("connection refused: no authorizer principal")
        return {"statusCode": 403}
    services.store.put(
        ConnectionRecord(
            connectionId=event.connection_id,
            principalId=principal,
            connectedAt=event.connected_at,
            sourceIp=event.source_ip,
        )
    )
    logger.info("connected", extra={"principal": principal})
    protocol = choose_subprotocol(event)
    if protocol is None:
        return {"statusCode": 200}
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": protocol}}
