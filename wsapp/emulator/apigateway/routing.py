"""Route selection on a message body (reference §3).

``RouteSelectionExpression`` may be ``$request.body.<path>``, ``${request.body.<path>}`` pieces
inside literal text, or a static value. Non-JSON bodies go to ``$default``; a path that does not
resolve becomes ``""``; a matched key must equal the result exactly (case-sensitive).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

_BRACED = re.compile(r"\$\{request\.body\.([^}]*)\}")
_BARE = re.compile(r"^\$request\.body\.(.+)$")
_MISSING = object()


def _lookup(body: Any, path: str) -> Any:
    value = body
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                return _MISSING
            value = value[index]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    """API Gateway stringifies what the path finds: ``[a, b]`` for arrays, ``true`` for booleans.

    JSON null and objects are UNCONFIRMED; they are treated as not found (``""``), which sends the
    message to ``$default``.
    """
    if value is _MISSING or value is None or isinstance(value, dict):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e16 else repr(value)
    return str(value)


def evaluate(expression: str, body: str) -> str | None:
    """The selection expression's value for ``body``; None when the body is not JSON."""
    if "request.body" not in expression:
        return expression.replace("\\$", "$")  # a static value such as \$default
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        return None
    bare = _BARE.match(expression)
    if bare:
        return _text(_lookup(parsed, bare.group(1)))
    return _BRACED.sub(lambda m: _text(_lookup(parsed, m.group(1))), expression)


def select_route(expression: str, body: str, route_keys: Collection[str]) -> str | None:
    """The route key a message goes to: an exact match, else ``$default``, else None (Forbidden)."""
    value = evaluate(expression, body)
    if value and not value.startswith("$") and value in route_keys:
        return value
    return "$default" if "$default" in route_keys else None
