"""The app's actions. Importing this module registers them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from wsapp.errors import BadMessage
from wsapp.logs import logger
from wsapp.management import Delivery
from wsapp.registry import ActionRequest, Reply, action, registry

BROADCAST_WORKERS = 16  # posts are network round trips; a few in flight keep a large fan-out short


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds, like Java's ``Instant`` in the original guide."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@action("marco")
def marco(request: ActionRequest) -> Reply:
    """``polo`` with the time; an ``id`` in the request comes back, so a client can pair replies."""
    reply: dict[str, object] = {"action": "polo", "ts": utc_now_iso()}
    correlation = request.payload.get("id")
    if isinstance(correlation, (str, int)) and not isinstance(correlation, bool):
        reply["id"] = correlation
    return reply


@action("ping", two_way=True)
def ping(request: ActionRequest) -> Reply:
    """Answered as the route response of the two-way ``ping`` route, not through ``@connections``."""
    return {"action": "pong", "ts": utc_now_iso()}


@action("broadcast")
def broadcast(request: ActionRequest) -> Reply:
    """Send ``message`` to every stored connection; connections that are gone are dropped."""
    if "message" not in request.payload:
        raise BadMessage("broadcast needs a 'message' field")
    data = json.dumps(
        {"action": "broadcast", "from": request.event.connection_id, "message": request.payload["message"]},
        separators=(",", ":"),
    ).encode()
    targets = list(request.store.connection_ids())
    with ThreadPoolExecutor(max_workers=BROADCAST_WORKERS) as pool:
        results = list(pool.map(lambda cid: request.connections.post(cid, data), targets))
    gone = results.count(Delivery.GONE)
    logger.info("broadcast sent", extra={"recipients": len(targets) - gone, "gone": gone})
    return None


def default_reply(received: str | None, reason: str) -> dict[str, object]:
    """What the default action answers: what arrived, why it was not dispatched, what exists."""
    return {"action": "default", "message": reason, "received": received, "actions": registry.names}
