"""What every entry point does around its handler: typed event, log keys, services, last-resort catch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from wsapp import snapstart
from wsapp.events import WebSocketEvent
from wsapp.logs import logger
from wsapp.services import Services, services_for

snapstart.register()  # runs only where SnapStart snapshots the environment: the clients go in the snapshot

Handle = Callable[[WebSocketEvent, Services], dict[str, Any]]
Fallback = Callable[[WebSocketEvent, Services | None], dict[str, Any]]


def entry_point(fallback: Fallback) -> Callable[[Handle], Callable[..., dict[str, Any]]]:
    """Turn ``handle(event, services)`` into ``handler(event, context, services=None)``.

    An exception is logged with its traceback and answered by ``fallback``; the client never sees it.
    """

    def wrap(handle: Handle) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handle)
        def handler(event: dict[str, Any], context: Any = None, services: Services | None = None) -> dict:
            view = WebSocketEvent(event)
            ctx = event.get("requestContext", {})
            # Thread-safe keys: a local gateway may run several invocations of one function at once.
            logger.thread_safe_append_keys(
                request_id=ctx.get("requestId"),
                connection_id=ctx.get("connectionId"),
                route_key=ctx.get("routeKey"),
            )
            try:
                if services is None:
                    services = services_for(view)
                return handle(view, services)
            except Exception:
                logger.exception("handler failed")
                return fallback(view, services)
            finally:
                logger.thread_safe_remove_keys(["request_id", "connection_id", "route_key"])

        return handler

    return wrap
