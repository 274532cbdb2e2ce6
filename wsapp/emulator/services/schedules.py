"""EventBridge schedules: a rule's ``ScheduleExpression: rate(...)`` fires its targets every period.

[EventBridge UG: "Creating an Amazon EventBridge rule that runs on a schedule"]: each tick of a
``rate(...)`` (the walker reads the period) sends the targets a "Scheduled Event" from
``aws.events`` whose ``resources`` is the rule's ARN. The ticks go through the embedded EventBridge's
rule, so every target gets them as a matched event would reach it (``lambda_targets.py``). The first
tick comes one period after the gateway starts (UNCONFIRMED: AWS starts counting when the rule is
created). ``cron(...)`` schedules are not fired (the walker warns of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

from wsapp.emulator.services import lambda_targets
from wsapp.emulator.template.model import Account, ScheduleSpec


class Schedules:
    """One task per scheduled rule, on the gateway's loop. ``scale`` multiplies every period (a local
    knob: 1/60 fires ``rate(1 minute)`` every second)."""

    def __init__(self, schedules: tuple[ScheduleSpec, ...], account: Account, scale: float = 1.0) -> None:
        self.schedules = schedules
        self.account = account
        self.scale = scale
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tick(schedule)) for schedule in self.schedules]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _tick(self, schedule: ScheduleSpec) -> None:
        account = self.account
        arn = f"arn:{account.partition}:events:{account.region}:{account.account_id}:rule/{schedule.rule}"
        while True:
            await asyncio.sleep(schedule.period * self.scale)
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
                lambda_targets.fire_rule, account.account_id, account.region, "default", schedule.rule, event
            )
