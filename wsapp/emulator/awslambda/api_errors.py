"""The Lambda API's error responses, shaped so the SDKs raise their modeled exceptions.

Lambda speaks rest-json: the error code travels in ``x-amzn-ErrorType`` and the body carries ``Type``
and the message (``Message`` or ``message``: each error shape of the service model spells it its own
way, botocore's ``lambda`` 2015-03-31 model, and the parsers read both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# 6 MB for a synchronous request [DOC API_Invoke]; the message as AWS words it [OBS
# awslabs/aws-athena-query-federation#793, pelmers/streetwarp-web#14].
SYNC_REQUEST_LIMIT = 6 * 1024 * 1024


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    message_key: str = "message"
    extra: dict[str, Any] = field(default_factory=dict)

    def response(self, request_id: str) -> web.Response:
        body = {"Type": "User", self.message_key: self.message, **self.extra}
        headers = {"x-amzn-ErrorType": self.code, "x-amzn-RequestId": request_id}
        return web.json_response(body, status=self.status, headers=headers, dumps=_compact)


def not_found(arn: str) -> ApiError:
    """404 with AWS's text, the ARN qualified (``:$LATEST`` when unqualified) [AWS-REC §6]."""
    return ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}", "Message")


def not_json(detail: str) -> ApiError:
    """400 for a payload that is not JSON [OBS awsdocs/aws-lambda-developer-guide#382]; the detail after
    the prefix is Python's parser's, not the Java parser's AWS quotes."""
    return ApiError(
        400,
        "InvalidRequestContentException",
        f"Could not parse request body into json: Could not parse payload into json: {detail}",
    )


def too_large_sync() -> ApiError:
    """413. AWS's code is ``RequestEntityTooLargeException`` [OBS ASFHyP3/hyp3#2241 (boto3),
    awslabs/aws-athena-query-federation#793 (Java SDK)], not the model's ``RequestTooLargeException``:
    boto3 raises a plain ClientError for it there, so it does here."""
    message = f"Request must be smaller than {SYNC_REQUEST_LIMIT} bytes for the InvokeFunction operation"
    return ApiError(413, "RequestEntityTooLargeException", message)


def too_large_async(size: int, limit: int) -> ApiError:
    """413, in the words AWS uses for Event payloads [OBS ASFHyP3/hyp3#2241, 2024]."""
    message = f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)"
    return ApiError(413, "RequestEntityTooLargeException", message)


def qualifier_conflict() -> ApiError:
    """Both ``name:qualifier`` and a different ``Qualifier`` [DOC EventBridge Scheduler troubleshooting,
    quoting Lambda's InvalidParameterValueException]."""
    message = "The derived qualifier from the function name does not match the specified qualifier."
    return ApiError(400, "InvalidParameterValueException", message)


def validation(value: str, member: str, constraint: str) -> ApiError:
    """400 in the wording of AWS's request validation (Lambda's exact text UNCONFIRMED)."""
    message = f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
    message += constraint
    return ApiError(400, "ValidationException", message)


def throttled(payload: dict[str, Any]) -> ApiError:
    """429 with the body AWS sends [AWS-REC §7]: ``Reason``, ``Type``, ``message``."""
    extra = {k: v for k, v in payload.items() if k not in ("Type", "message")}
    return ApiError(
        429, "TooManyRequestsException", str(payload.get("message", "Rate Exceeded.")), extra=extra
    )


def service(message: str) -> ApiError:
    return ApiError(500, "ServiceException", message, "Message")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
