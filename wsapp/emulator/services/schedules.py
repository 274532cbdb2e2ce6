"""EventBridge schedules: a rule's ``ScheduleExpression: rate(...)`` fires its targets every period.

[EventBridge UG: "Creating an Amazon EventBridge rule that runs on a schedule"]: ``rate(value unit)``
(minute(s), hour(s), day(s)); each tick sends the targets a "Scheduled Event" from ``aws.events`` whose
``resources`` is the rule's ARN. The ticks go through the embedded EventBridge's rule, so every target
gets them as a matched event would reach it (``lambda_targets.py``). The first tick comes one period
after the gateway starts (UNCONFIRMED: AWS starts counting when the rule is created). ``cron(...)``
schedules are not fired (the walker warns of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from datetime import UTC, datetime

from wsapp.emulator.services import lambda_targets
from wsapp.emulator.template.model import Account, ResourceSpec

RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """The period of a ``rate(...)`` expression, or None for anything else (a ``cron(...)``)."""
    match = RATE.fullmatch(expression.strip())
    if match is None or int(match[1]) < 1:
        return None
    return int(match[1]) * UNIT_SECONDS[match[2].rstrip("s")]


class Schedules:
    """One task per scheduled rule, on the gateway's loop. ``scale`` multiplies every period (a local
    knob: 1/60 fires ``rate(1 minute)`` every second)."""

    def __init__(self, rules: list[ResourceSpec], account: Account, scale: float = 1.0) -> None:
        self.account = account
        self.scale = scale
        self.rules = [
            (rule, period)
            for rule in rules
            if str(rule.properties.get("State", "ENABLED")) == "ENABLED"
            and (period := rate_seconds(str(rule.properties.get("ScheduleExpression", "")))) is not None
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tick(rule, period)) for rule, period in self.rules]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _tick(self, rule: ResourceSpec, period: float) -> None:
        account = self.account
        arn = f"arn:{account.partition}:events:{account.region}:{account.account_id}:rule/{rule.name}"
        while True:
            await asyncio.sleep(period * self.scale)
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": account.account_id,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": account.region,
                "resources": [arn],
                "detail": {},
            }
            await asyncio.to_thread(
                lambda_targets.fire_rule, account.account_id, account.region, "default", rule.name, event
            )
