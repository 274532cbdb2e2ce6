"""One function for all three lifecycle events, as in the original guide: dispatch on ``eventType``."""

from __future__ import annotations

from typing import Any

from wsapp.handlers import connect, disconnect, message

_BY_TYPE = {"CONNECT": connect.handler, "MESSAGE": message.handler, "DISCONNECT": disconnect.handler}


def handler(event: dict[str, Any], context: Any = None, services: Any = None) -> dict[str, Any]:
    event_type = event.get("requestContext", {}).get("eventType")
    target = _BY_TYPE.get(event_type)
    if target is None:
        # Not an API Gateway WebSocket event: a wiring mistake worth a loud 400, never a traceback.
        return {"statusCode": 400, "body": f"unsupported eventType {event_type!r}"}
    return target(event, context, services)
