"""A local API Gateway WebSocket emulator that runs template.yaml (never imported by handlers)."""

from wsapp.emulator.config import Behaviour, Limits
from wsapp.emulator.errors import EmulatorError, HandlerImportError, TemplateError
from wsapp.emulator.gateway import LocalGateway
from wsapp.emulator.ids import SteppingClock
from wsapp.emulator.model import Account

__all__ = [
    "Account",
    "Behaviour",
    "EmulatorError",
    "HandlerImportError",
    "Limits",
    "LocalGateway",
    "SteppingClock",
    "TemplateError",
]
