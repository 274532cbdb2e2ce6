"""A local API Gateway WebSocket emulator that runs template.yaml (never imported by handlers).

The names below are imported on first use, so ``python -m wsapp.emulator.template`` (the translation
child process) does not pay for the server's imports.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Account": "wsapp.emulator.template.model",
    "AsyncInvoke": "wsapp.emulator.awslambda.event_queue",
    "Behaviour": "wsapp.emulator.apigateway.config",
    "EmulatorError": "wsapp.emulator.errors",
    "HandlerImportError": "wsapp.emulator.errors",
    "Limits": "wsapp.emulator.apigateway.config",
    "LocalGateway": "wsapp.emulator.gateway",
    "SteppingClock": "wsapp.emulator.apigateway.ids",
    "TemplateError": "wsapp.emulator.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'wsapp.emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
