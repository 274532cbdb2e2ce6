"""The services a handler works with, built once per container from the function's environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from wsapp.events import WebSocketEvent
from wsapp.management import ConnectionsClient, endpoint_for
from wsapp.store import ConnectionStore, store_from_env


@dataclass(frozen=True)
class Services:
    store: ConnectionStore
    connections: ConnectionsClient


def services_for(event: WebSocketEvent, env: Mapping[str, str] = os.environ) -> Services:
    """The store named by the environment and a Management API client for the event's stage."""
    store = store_from_env(env)
    return Services(store=store, connections=ConnectionsClient(endpoint_for(event, env), store=store))
