"""wsapp: API Gateway WebSocket APIs on AWS Lambda, with a local gateway to test them on.

The public surface is small: ``action`` registers a message action, ``WebSocketEvent`` reads an event.
"""

from wsapp.events import AuthorizerRequestEvent, WebSocketEvent
from wsapp.registry import ActionRequest, action

__version__ = "0.1.0"
__all__ = ["ActionRequest", "AuthorizerRequestEvent", "WebSocketEvent", "__version__", "action"]
