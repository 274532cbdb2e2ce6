"""The action registry: ``@action("marco")`` records a function under a name and returns it unchanged.

Messages are routed by their ``action`` field. API Gateway selects a route with
``$request.body.action``; every key without a route of its own reaches ``$default``, where the
message handler dispatches through this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wsapp.errors import DuplicateAction

if TYPE_CHECKING:
    from wsapp.events import WebSocketEvent
    from wsapp.management import ConnectionsClient
    from wsapp.store import ConnectionStore


@dataclass(frozen=True)
class ActionRequest:
    """What an action receives: the event, its parsed body and the services to answer with."""

    event: WebSocketEvent
    payload: Mapping[str, Any]
    connections: ConnectionsClient
    store: ConnectionStore


Reply = dict[str, Any] | None
ActionFunc = Callable[[ActionRequest], Reply]


@dataclass(frozen=True)
class Registered:
    name: str
    func: ActionFunc
    two_way: bool = False  # True: the reply is returned as the route response instead of posted


@dataclass
class ActionRegistry:
    _actions: dict[str, Registered] = field(default_factory=dict)

    def register(self, name: str, *, two_way: bool = False) -> Callable[[ActionFunc], ActionFunc]:
        """Decorator: record ``func`` under ``name``; a second registration of a name fails at once."""

        def decorate(func: ActionFunc) -> ActionFunc:
            if name in self._actions:
                raise DuplicateAction(name)
            self._actions[name] = Registered(name, func, two_way)
            return func

        return decorate

    def find(self, name: str) -> Registered | None:
        return self._actions.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._actions)


registry = ActionRegistry()
action = registry.register
