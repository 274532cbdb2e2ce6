"""EventBridge as a template declares it: schedule expressions and what a rule's targets are.

``rate(value unit)`` [EventBridge UG: "Schedule expressions for rules"]: minute(s), hour(s), day(s).
"""

from __future__ import annotations

import re

RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# Target services the emulator delivers to: the template's functions (the Lambda service) and what the
# embedded EventBridge delivers itself (services/lambda_targets.py, MOTO_TARGETS).
DELIVERED = ("lambda", "sqs", "logs", "events")


def rate_seconds(expression: str) -> float | None:
    """The period of a ``rate(...)`` expression, or None for anything else (a ``cron(...)``)."""
    match = RATE.fullmatch(expression.strip())
    if match is None or int(match[1]) < 1:
        return None
    return int(match[1]) * UNIT_SECONDS[match[2].rstrip("s")]


def target_service(arn: str) -> str:
    """The service an ARN names (``arn:aws:states:...`` → ``states``), or ""."""
    parts = arn.split(":", 5)
    return parts[2] if len(parts) == 6 and parts[0] == "arn" else ""
