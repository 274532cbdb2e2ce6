"""What the Lambda service reports to its caller for each way an invocation ends (reference §1.4, §3.2).

A response or the runtime's own error document, passed through; the platform's two-key payloads for a
timeout, an exited runtime and an oversized response; the 429 of a throttled function.
"""

from __future__ import annotations

import json
from typing import Any

from wsapp.emulator.awslambda.invocation import Invocation

MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # 6291556 [RIE interop/model.go MaxPayloadSize]


def response(request_id: str, body: bytes, duration_ms: float) -> Invocation:
    """The handler's result, as JSON when it is JSON (a non-JSON body stays text for the caller to judge)."""
    try:
        value: Any = json.loads(body) if body else None
    except ValueError:
        value = body.decode("utf-8", "replace")
    return Invocation(request_id, True, value, duration_ms=duration_ms, body=body)


def error_payload(body: bytes, error_type: str) -> dict[str, Any]:
    """The runtime's error document, passed through unchanged [RIE §1.3]; a bare header if none."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        payload = {"errorMessage": body.decode("utf-8", "replace")}
    if not isinstance(payload, dict):
        payload = {"errorMessage": str(payload)}
    if "errorType" not in payload:
        payload["errorType"] = error_type or "Runtime.Unknown"
    return payload


def runtime_error(request_id: str, body: bytes, error_type: str, duration_ms: float) -> Invocation:
    """The runtime's ``/error`` post: its caller gets the document's bytes unchanged [RIE §1.3] when it is
    a JSON object naming its ``errorType`` (else the completed :func:`error_payload`)."""
    payload = error_payload(body, error_type)
    try:
        posted = json.loads(body)
    except ValueError:
        posted = None
    unchanged = isinstance(posted, dict) and "errorType" in posted
    return failed(request_id, payload, duration_ms, body=body if unchanged else None)


def failed(request_id: str, payload: dict[str, Any], duration_ms: float, **flags: Any) -> Invocation:
    """A function error with its payload: the handler raised, the runtime or the platform gave up."""
    return Invocation(
        request_id,
        False,
        payload,
        payload.get("errorType"),
        payload.get("errorMessage"),
        duration_ms=duration_ms,
        **flags,
    )


def timed_out(request_id: str, timeout: float) -> Invocation:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    payload = {"errorType": "Sandbox.Timedout", "errorMessage": message}
    return failed(request_id, payload, timeout * 1000, timed_out=True)


def exited(request_id: str, reason: str, duration_ms: float) -> Invocation:
    payload = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {reason}"}
    return failed(request_id, payload, duration_ms)


def too_large(request_id: str, duration_ms: float) -> Invocation:
    """Message first and no ``RequestId:`` prefix, as AWS words this one [AWS-REC §1.5]."""
    message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
    payload = {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}
    return failed(request_id, payload, duration_ms)


def throttled(
    request_id: str, reason: str = "ReservedFunctionConcurrentInvocationLimitExceeded"
) -> Invocation:
    """Lambda's 429 for a function at its reserved concurrency, or (``ConcurrentInvocationLimitExceeded``)
    past the account's concurrency [AWS-REC §7]."""
    payload = {"Reason": reason, "Type": "User", "message": "Rate Exceeded."}
    return Invocation(
        request_id, False, payload, "TooManyRequestsException", "Rate Exceeded.", throttled=True
    )


def stopped(request_id: str) -> Invocation:
    """The emulator stopped before the event ran."""
    return Invocation(request_id, False, error_type="ServiceException", error_message="stopped")


def gave_up(request_id: str) -> Invocation:
    """The caller's own timeout (API Gateway's integration timeout) ran out; the function runs on."""
    return Invocation(request_id, False, error_type="IntegrationTimeout", gave_up=True)
