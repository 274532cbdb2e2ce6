"""Decide a REQUEST authorizer's policy against the method ARN, as API Gateway does (reference §2.3).

IAM semantics: an explicit Deny wins; otherwise some Allow must match both the action
(``execute-api:Invoke``) and the resource. Wildcards are IAM's: ``*`` any run of characters
(``/`` included), ``?`` one character, case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

ACTION = "execute-api:Invoke"


@lru_cache(maxsize=256)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("Action and Resource must be strings or lists of strings")


def _matches(statement: Mapping[str, Any], method_arn: str) -> bool:
    # Action names are case-insensitive in IAM; resources are case-sensitive.
    actions = _listed(statement.get("Action", []))
    resources = _listed(statement.get("Resource", []))
    return any(_pattern(a, True).match(ACTION) for a in actions) and any(
        _pattern(r, False).match(method_arn) for r in resources
    )


def is_allowed(policy: Any, method_arn: str) -> bool:
    """True when the policy document allows ``method_arn``; ValueError when it is not a policy."""
    if not isinstance(policy, Mapping):
        raise ValueError("policyDocument is not an object")
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise ValueError("policyDocument.Statement is not a list of statements")
    effects = []
    for statement in statements:
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"statement Effect {effect!r} is neither Allow nor Deny")
        if _matches(statement, method_arn):
            effects.append(effect)
    return "Allow" in effects and "Deny" not in effects
