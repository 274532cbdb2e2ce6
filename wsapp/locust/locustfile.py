"""wsapp's load-test scenarios, for ``wsapp load`` or ``locust -f`` this file yourself.

Pick them by user class (``locust -f … MarcoUser ChurnUser``) or by tag (``--tags marco``):

* ``MarcoUser`` (tag ``marco``): keeps its connection and plays marco/polo, one request in flight.
* ``BroadcastUser`` (tag ``broadcast``): keeps its connection and broadcasts; its request is paired
  with its own copy of the broadcast (the fan-out's time), every other copy anyone receives is a
  ``RECV broadcast``. One broadcast costs a post to every connection: fewer of these.
* ``ChurnUser`` (tag ``churn``): connect, a few marcos, close, again; exercises ``$connect`` (the
  authorizer, the connection store) and ``$disconnect``. Its reconnects count against the connect rate.

Every user waits ``--wsapp-think-time`` seconds between requests.
"""

from __future__ import annotations

import random

from locust import tag, task

import wsapp.locust.summary  # noqa: F401 - writes `wsapp load`'s final statistics
from wsapp.locust import WebSocketUser
from wsapp.locust.options import option


class _Thinking(WebSocketUser):
    abstract = True

    def wait_time(self) -> float:
        return float(option(self.environment, "wsapp_think_time"))


class MarcoUser(_Thinking):
    weight = 10

    @tag("marco")
    @task
    def marco(self) -> None:
        self.request("marco")


class BroadcastUser(_Thinking):
    weight = 1

    @tag("broadcast")
    @task
    def broadcast(self) -> None:
        self.request("broadcast", {"message": {"from": self.sub}}, id_in="message")


class ChurnUser(_Thinking):
    weight = 2
    most_marcos = 3

    def on_start(self) -> None:
        """Connects in its task, not at start: every cycle is a connect of its own."""

    @tag("churn")
    @task
    def cycle(self) -> None:
        if not self.connect():
            return
        for _ in range(random.randint(0, self.most_marcos)):
            if self.request("marco") is None:
                break
        self.disconnect()
