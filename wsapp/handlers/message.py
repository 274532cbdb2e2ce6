"""MESSAGE: parse the body, dispatch by ``action``, answer through ``@connections``."""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import wsapp.actions  # noqa: F401 - registers the built-in actions
from wsapp.actions import default_reply
from wsapp.errors import BadMessage
from wsapp.events import WebSocketEvent
from wsapp.handlers._entry import entry_point
from wsapp.logs import logger
from wsapp.registry import ActionRequest, registry
from wsapp.services import Services

EXTRA_ACTIONS_ENV = "WSAPP_ACTIONS"  # comma-separated modules whose @action functions to register
RECEIVED_ECHO_LIMIT = 1024  # the default reply quotes at most this much of what arrived
ACTION_ECHO_LIMIT = 64  # ... and of an unknown action's name (a post may carry at most 128 KB)
OK = {"statusCode": 200}

for _module in filter(None, (m.strip() for m in os.environ.get(EXTRA_ACTIONS_ENV, "").split(","))):
    importlib.import_module(_module)


def _quote(body: str | None, limit: int = RECEIVED_ECHO_LIMIT) -> str | None:
    if body is None or len(body) <= limit:
        return body
    return body[:limit] + "…"


def _failed(event: WebSocketEvent, services: Services | None) -> dict[str, Any]:
    if services is not None:
        try:
            services.connections.post(
                event.connection_id,
                {"action": "error", "message": "Internal error", "requestId": event.request_id},
            )
        except Exception:
            logger.exception("could not report the failure to the client")
    return {"statusCode": 500}


@entry_point(_failed)
def handler(event: WebSocketEvent, services: Services) -> dict[str, Any]:
    registered = None
    try:
        payload = event.json_body
        name = payload.get("action")
        if not isinstance(name, str):
            raise BadMessage("the message has no string 'action' field")
        registered = registry.find(name)
        if registered is None:
            raise BadMessage(f"unknown action {_quote(name, ACTION_ECHO_LIMIT)!r}")
        reply = registered.func(ActionRequest(event, payload, services.connections, services.store))
    except BadMessage as exc:
        logger.info("default action", extra={"reason": exc.reason})
        registered, reply = None, default_reply(_quote(event.body), exc.reason)
    if reply is None:
        return dict(OK)
    if registered is not None and registered.two_way:
        # A two-way route: API Gateway sends ``body`` back as one frame (reference §3.1).
        return {"statusCode": 200, "body": json.dumps(reply, separators=(",", ":"))}
    services.connections.post(event.connection_id, reply)
    return dict(OK)
