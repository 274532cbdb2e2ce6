"""The Lambda service's invoke interface, the only part of ``awslambda`` other parts may import.

API Gateway (and the one-off ``wsapp invoke``) call a function as they would call Lambda's Invoke API:
hand over an event, get back an :class:`Invocation` — the function's result or its error, as the
Lambda service reports it to its caller.
"""

from __future__ import annotations

from asyncio import Future
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, as the Lambda service reports it to API Gateway."""

    request_id: str
    ok: bool
    value: Any = None
    error_type: str | None = None
    error_message: str | None = None
    timed_out: bool = False
    duration_ms: float = 0.0
    gave_up: bool = False  # the caller's own timeout (API Gateway's integration timeout) ran out first
    throttled: bool = False  # Lambda refused it (429 TooManyRequestsException): the function never ran
    body: bytes | None = None  # the bytes the runtime posted, when the caller gets them unchanged


class Function(Protocol):
    """One function of the template, invocable from the caller's event loop."""

    def submit(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        wait: float | None = None,
        invoked_arn: str | None = None,
        scale: bool = False,
    ) -> Future[Invocation]:
        """Start an invocation; ``wait`` is how long the caller waits before giving up (``gave_up``).

        ``invoked_arn``: the ARN the caller named (qualified or not), as the runtime is told it.
        ``scale``: start another environment even past the local ``--concurrency`` rather than queue
        (Lambda scales on demand; a caller that waits on a function it invoked must never wait behind
        itself); ReservedConcurrentExecutions still throttles.
        """
        ...
