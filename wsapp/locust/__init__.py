"""Locust users for WebSocket APIs on API Gateway with Lambda, local (``wsapp local``) or deployed.

``from wsapp.locust import WebSocketUser`` in a locustfile; ``wsapp load URL`` runs ours
(``wsapp/locust/locustfile.py``). Importing the user class imports Locust, and Locust monkey-patches
the process for gevent: only a Locust process imports it. The name is resolved on first use, so
``wsapp.locust.frames`` (plain Python) can be imported anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# "New connections per second per account (across all WebSocket APIs) per Region: 500" (API Gateway
# quotas for WebSocket APIs); the emulator refuses connects over it too (Limits.connect_rate).
CONNECT_QUOTA = 500.0
SCENARIOS = {"marco": "MarcoUser", "broadcast": "BroadcastUser", "churn": "ChurnUser"}
__all__ = ["CONNECT_QUOTA", "LOCUSTFILE", "SCENARIOS", "WebSocketUser"]


def __getattr__(name: str) -> Any:
    if name == "WebSocketUser":
        from wsapp.locust.user import WebSocketUser

        return WebSocketUser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
