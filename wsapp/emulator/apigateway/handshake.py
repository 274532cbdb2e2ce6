"""The opening handshake: identity sources, the REQUEST authorizer, then ``$connect`` (reference §0, §2, §4).

Pure decision logic over invocations; the server turns a :class:`Verdict` into an HTTP response or a 101.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wsapp.emulator.apigateway import proxy
from wsapp.emulator.apigateway.config import Behaviour, Limits
from wsapp.emulator.apigateway.integrations.selection import parameter_value
from wsapp.emulator.apigateway.policy_check import is_allowed
from wsapp.emulator.awslambda.invocation import Function, Invocation
from wsapp.emulator.template.model import AuthorizerSpec

REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Internal server error",
    504: "Endpoint request timed out",
}


@dataclass(frozen=True)
class Verdict:
    status: int  # 101 accept, else the HTTP status of the rejected handshake
    why: str = ""  # for the gateway's log, never sent to the client
    protocol: str | None = None
    authorizer: Mapping[str, Any] | None = None  # principalId + context, replayed on later events


def identity_present(
    sources: tuple[str, ...],
    headers: Mapping[str, str],
    query: Mapping[str, str],
    stage_variables: Mapping[str, str],
) -> bool:
    """Every configured identity source present and non-empty (else 401, authorizer not invoked) [DOC]."""
    for source in sources:
        if not source.startswith(("route.request.header.", "route.request.querystring.", "stageVariables.")):
            continue  # context variables are always populated by API Gateway itself
        value = parameter_value(
            source, body="", context={}, stage_variables=stage_variables, headers=headers, query=query
        )
        if not value or not value.strip():
            return False
    return True


def _context_value(value: Any, stringify: bool) -> Any:
    if not stringify:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def policy_verdict(value: Any, method_arn: str, limits: Limits, behaviour: Behaviour) -> Verdict:
    """Judge the authorizer's output: not a policy → 500, Deny / no matching Allow → 403."""
    if not isinstance(value, dict) or "policyDocument" not in value:
        return Verdict(500, "authorizer returned something that is not a policy")
    if len(json.dumps(value)) > limits.authorizer_result_bytes:
        return Verdict(500, f"authorizer result exceeds {limits.authorizer_result_bytes} bytes")
    principal = value.get("principalId")
    if not isinstance(principal, str) or not principal:
        return Verdict(500, "authorizer result has no principalId")
    context = value.get("context") or {}
    if not isinstance(context, dict) or not all(
        isinstance(v, (str, int, float, bool)) for v in context.values()
    ):
        return Verdict(500, "authorizer context values must be strings, numbers or booleans")
    try:
        allowed = is_allowed(value["policyDocument"], method_arn)
    except ValueError as exc:
        return Verdict(500, f"invalid policy: {exc}")
    if not allowed:
        return Verdict(403, "policy does not allow " + method_arn)
    replay = {k: _context_value(v, behaviour.stringify_authorizer_context) for k, v in context.items()}
    return Verdict(101, authorizer={**replay, "principalId": principal})


async def authorize(
    spec: AuthorizerSpec,
    runtime: Function,
    event: dict[str, Any],
    limits: Limits,
    behaviour: Behaviour,
) -> tuple[Verdict, int]:
    """Invoke the authorizer; the verdict and its latency in ms (for ``integrationLatency``)."""
    started = time.monotonic()
    result: Invocation = await runtime.submit(event, wait=limits.authorizer_timeout)
    latency = int((time.monotonic() - started) * 1000)
    if result.gave_up:
        return Verdict(500, "authorizer timed out"), latency
    if not result.ok:
        # Only the exact error message "Unauthorized" means 401 [DOC lambda-auth]; anything else is 500.
        if result.error_message == "Unauthorized":
            return Verdict(401, "authorizer answered Unauthorized"), latency
        return Verdict(500, f"authorizer failed: {result.error_type}"), latency
    return policy_verdict(result.value, event["methodArn"], limits, behaviour), latency


async def connect(
    runtime: Function, event: dict[str, Any], timeout: float, behaviour: Behaviour | None = None
) -> Verdict:
    """Invoke ``$connect``: 2xx accepts; another status rejects with it; failure → 502; timeout → 504."""
    result = await runtime.submit(event, wait=timeout)
    if result.gave_up:
        return Verdict(504, "$connect integration timed out")  # UNCONFIRMED status
    if result.throttled:
        status = (behaviour or Behaviour()).throttled_connect_status
        return Verdict(status, "$connect throttled: the function is at its reserved concurrency")
    if not result.ok:
        return Verdict(502, f"$connect failed: {result.error_type}")
    issue = proxy.problem(result.value)
    status = result.value.get("statusCode") if issue is None else None
    if issue is None and status is None:
        status = (behaviour or Behaviour()).connect_without_status
    if issue is None and not isinstance(status, int):
        issue = "no statusCode"
    if issue is None and not 200 <= status <= 599:
        issue = f"statusCode {status} is not an HTTP status"
    if issue is not None:
        return Verdict(502, f"Malformed Lambda proxy response: {issue}")  # UNCONFIRMED status
    if not 200 <= status < 300:
        return Verdict(status, f"$connect returned {status}")
    # Only Sec-WebSocket-Protocol is carried into the 101; other headers and the body are dropped.
    protocol = proxy.header(result.value, "Sec-WebSocket-Protocol")
    if protocol is not None and any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in protocol):
        # CR/LF/NUL in a header value cannot go on the wire (header injection) [UNCONFIRMED status].
        return Verdict(502, "Malformed Lambda proxy response: control character in Sec-WebSocket-Protocol")
    return Verdict(101, protocol=protocol)
