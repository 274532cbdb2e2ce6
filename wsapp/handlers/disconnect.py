"""``$disconnect``: forget the connection. Idempotent, and never fails the invocation."""

from __future__ import annotations

from typing import Any

from wsapp.events import WebSocketEvent
from wsapp.handlers._entry import entry_point
from wsapp.logs import logger
from wsapp.services import Services

OK = {"statusCode": 200}


def _failed(event: WebSocketEvent, services: Services | None) -> dict[str, Any]:
    # API Gateway ignores $disconnect's result; the row's TTL cleans up what a failure leaves behind.
    return dict(OK)


@entry_point(_failed)
def handler(event: WebSocketEvent, services: Services) -> dict[str, Any]:
    services.store.delete(event.connection_id)
    logger.info(
        "disconnected",
        extra={"status_code": event.disconnect_status_code, "reason": event.disconnect_reason},
    )
    return dict(OK)
