"""The project's actions. ``template.yaml`` names this module in ``WSAPP_ACTIONS``, so wsapp's message
handler imports it and dispatches ``{"action": "hello", ...}`` to ``hello`` below.

An action gets the event, its parsed body (``request.payload``), the ``@connections`` client and the
connection table; what it returns is posted back to the sender (``None``: nothing is).
"""

from __future__ import annotations

from wsapp import ActionRequest, action


@action("hello")
def hello(request: ActionRequest) -> dict[str, str]:
    """Greet ``name`` from the message, else the caller's principal (the subject of its token)."""
    name = request.payload.get("name")
    if not isinstance(name, str) or not name:
        name = request.event.principal_id or "stranger"
    return {"action": "hello", "message": f"Hello, {name}!"}
