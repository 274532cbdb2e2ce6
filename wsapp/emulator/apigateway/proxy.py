"""Checks on what a Lambda proxy integration returns (reference §1.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALLOWED_KEYS = {"statusCode", "body", "headers", "multiValueHeaders", "isBase64Encoded", "cookies"}


def problem(value: Any) -> str | None:
    """Why ``value`` is a malformed proxy response, or None when it is well formed.

    API Gateway logs "Execution failed due to configuration error: Malformed Lambda proxy response"
    for ``null``, unknown top-level keys, or fields of the wrong type.
    """
    if not isinstance(value, dict):
        return f"the response is {type(value).__name__}, not an object"
    extra = sorted(set(value) - ALLOWED_KEYS)
    if extra:
        return f"unexpected keys {extra}"
    status = value.get("statusCode")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        return "statusCode is not an integer"
    if value.get("body") is not None and not isinstance(value["body"], str):
        return "body is not a string"
    headers = value.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, (str, int, float, bool)) for v in headers.values())
    ):
        return "headers is not an object of scalar values"
    return None


def find_header(headers: Mapping[str, Any], name: str) -> Any | None:
    """The value of header ``name`` in ``headers``, matched case-insensitively as HTTP does."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def header(value: dict[str, Any], name: str) -> str | None:
    """A response header, matched case-insensitively."""
    wanted = name.lower()
    found = find_header(value.get("headers") or {}, name)
    if found is not None:
        return str(found)
    for key, items in (value.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and isinstance(items, list) and items:
            return ", ".join(str(i) for i in items)
    return None
