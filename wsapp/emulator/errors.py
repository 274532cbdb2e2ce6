"""The emulator's own failures: a template or configuration it cannot run. One clear line each."""

from __future__ import annotations


class EmulatorError(Exception):
    """Root of the emulator's errors; ``str()`` is the one line shown to the user."""


class TemplateError(EmulatorError):
    """template.yaml cannot be run: no WebSocket API, an unsupported intrinsic, a missing parameter…"""

    def __init__(self, message: str, resource: str | None = None) -> None:
        super().__init__(f"{resource}: {message}" if resource else message)
        self.resource = resource


class HandlerImportError(EmulatorError):
    """A function's ``Handler`` string does not name an importable callable."""

    def __init__(self, function: str, handler: str, reason: str) -> None:
        super().__init__(f"{function}: Handler {handler!r} cannot be imported: {reason}")
        self.function = function
        self.handler = handler
