"""Helpers for tests and notebooks (never imported by handlers): sample events and a Lambda context."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, dict by dict (a fresh copy; neither input changes)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """``events/{name}.json``, with ``overrides`` deep-merged in."""
    path = EVENTS_DIR / f"{name.removesuffix('.json')}.json"
    return deep_merge(json.loads(path.read_text()), overrides)


@dataclass
class LambdaContext:
    """The attributes and method handlers read from Lambda's context object."""

    function_name: str = "wsapp-function"
    memory_limit_in_mb: int = 256
    timeout_ms: int = 10_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/wsapp-function"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms
