"""Lambda's Invoke API, ``POST /2015-03-31/functions/{FunctionName}/invocations``, on a port of its own.

What the SDKs' ``lambda.invoke`` reaches (the functions get ``AWS_ENDPOINT_URL_LAMBDA``), answered as
Lambda answers it (botocore's ``lambda`` 2015-03-31 model; lambda-runtime-reference §6, §1.4, §1.5):

- ``RequestResponse``: 200 and the function's payload, byte for byte; a function error is still 200,
  with ``X-Amz-Function-Error: Unhandled`` and the error document; ``X-Amz-Executed-Version``;
  ``LogType: Tail`` adds ``X-Amz-Log-Result``, the base64 of the invocation's last 4 KB of log.
- ``Event``: 202 with an empty body; the event queue runs and retries it (``event_queue.py``).
- ``DryRun``: 204 once the request is valid.
- Errors with the service's codes: ResourceNotFoundException, InvalidRequestContentException,
  RequestEntityTooLargeException, TooManyRequestsException (see ``api_errors.py``).

A caller that waits for its answer makes the function scale past the local ``--concurrency`` (Lambda
scales on demand), so a function invoking another, or itself, synchronously never waits behind
itself. Requests are not authenticated (any or no SigV4 signature is accepted). Recursive-loop
detection, ``ClientContext``, response streaming and destinations are not emulated.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping

from aiohttp import web

from wsapp.emulator.awslambda import api_errors, function_names, outcomes
from wsapp.emulator.awslambda.event_queue import AsyncInvoke, EventQueue
from wsapp.emulator.awslambda.invocation import Function, Invocation
from wsapp.emulator.logs import LogSink
from wsapp.emulator.template.model import Account, FunctionSpec

INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")  # the model's InvocationType enum
LOG_TYPES = ("None", "Tail")
LOG_TAIL_BYTES = 4096  # "the last 4 KB of the execution log" [DOC API_Invoke]
INVOKE_ASYNC_LIMIT = 256 * 1024  # the deprecated InvokeAsync's payload limit [DOC API_InvokeAsync]


class InvokeApi:
    def __init__(
        self,
        functions: Mapping[str, Function],
        specs: Mapping[str, FunctionSpec],
        *,
        account: Account,
        sink: LogSink,
        request_ids: Callable[[], str],
        settings: AsyncInvoke | None = None,
    ) -> None:
        self.functions = functions
        self.specs = specs
        self.account = account
        self.sink = sink
        self.request_ids = request_ids
        self.settings = settings or AsyncInvoke()
        self.queue = EventQueue(self.settings, sink)

    def web_app(self) -> web.Application:
        # Bodies past the limits are answered with Lambda's 413, so aiohttp must let them in first.
        app = web.Application(client_max_size=4 * api_errors.SYNC_REQUEST_LIMIT)
        app.router.add_post("/2015-03-31/functions/{name}/invocations", self._invoke)
        app.router.add_post("/2014-11-13/functions/{name}/invoke-async", self._invoke_async)
        app.router.add_post("/2014-11-13/functions/{name}/invoke-async/", self._invoke_async)
        app.router.add_route("*", "/{path:.*}", self._unknown)
        return app

    async def close(self) -> None:
        await self.queue.close()

    # -- handlers -----------------------------------------------------------------------------------
    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        request_id = self.request_ids()
        try:
            kind = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            if kind not in INVOCATION_TYPES:
                raise _enum_error(kind, "invocationType", INVOCATION_TYPES)
            log_type = request.headers.get("X-Amz-Log-Type") or "None"
            if log_type not in LOG_TYPES:
                raise _enum_error(log_type, "logType", LOG_TYPES)
            qualifier = request.query.get("Qualifier")
            target = function_names.resolve(request.match_info["name"], qualifier, self.specs, self.account)
            body = await request.read()
            if kind == "Event" and len(body) > self.settings.payload_limit:
                raise api_errors.too_large_async(len(body), self.settings.payload_limit)
            if len(body) > api_errors.SYNC_REQUEST_LIMIT:
                raise api_errors.too_large_sync()
            body = _checked_json(body)
            if kind == "DryRun":
                return web.Response(status=204, headers={"x-amzn-RequestId": request_id})
            if kind == "Event":
                self._enqueue(target, body, request_id)
                return web.Response(status=202, headers={"x-amzn-RequestId": request_id})
            return await self._run(target, body, request_id, tail=log_type == "Tail")
        except api_errors.ApiError as error:
            return error.response(request_id)

    async def _invoke_async(self, request: web.Request) -> web.StreamResponse:
        """The deprecated ``InvokeAsync``: an Event invocation answered ``202`` (unqualified only)."""
        request_id = self.request_ids()
        try:
            target = function_names.resolve(request.match_info["name"], None, self.specs, self.account)
            body = await request.read()
            if len(body) > INVOKE_ASYNC_LIMIT:
                raise api_errors.too_large_async(len(body), INVOKE_ASYNC_LIMIT)
            self._enqueue(target, _checked_json(body), request_id)
            return web.json_response({"Status": 202}, status=202, headers={"x-amzn-RequestId": request_id})
        except api_errors.ApiError as error:
            return error.response(request_id)

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        error = api_errors.ApiError(
            404,
            "UnknownOperationException",
            f"the local Lambda endpoint serves Invoke only, not {request.path}",
        )
        return error.response(self.request_ids())

    # -- running ------------------------------------------------------------------------------------
    def invoke_event(self, target: function_names.Target, body: bytes) -> str:
        """An ``Event`` invocation from another service (SNS, EventBridge): queued as the API queues one."""
        request_id = self.request_ids()
        self._enqueue(target, body, request_id)
        return request_id

    def _enqueue(self, target: function_names.Target, body: bytes, request_id: str) -> None:
        spec = target.spec
        config = spec.async_configs.get(target.config_key)
        self.queue.put(self.functions[spec.logical_id], spec, body, request_id, target.arn, config)

    async def _run(
        self, target: function_names.Target, body: bytes, request_id: str, *, tail: bool
    ) -> web.StreamResponse:
        logical = target.spec.logical_id
        if tail:
            self.sink.watch(logical, request_id)
        try:
            function = self.functions[logical]
            result = await function.submit(body, request_id=request_id, invoked_arn=target.arn, scale=True)
        finally:
            lines = self.sink.unwatch(logical, request_id) if tail else []
        if result.throttled:
            raise api_errors.throttled(result.value or {})
        if result.error_type == "ServiceException":
            raise api_errors.service(result.error_message or "the emulator is stopping")
        payload, failed = _payload(result)
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": target.version,
            "x-amzn-RequestId": request_id,
        }
        if failed:
            headers["X-Amz-Function-Error"] = "Unhandled"  # every function error since 2023 [AWS-REC §6]
        if tail:
            log = "".join(f"{line}\n" for line in lines).encode()
            headers["X-Amz-Log-Result"] = base64.b64encode(log[-LOG_TAIL_BYTES:]).decode()
        return web.Response(status=200, body=payload, headers=headers)


def _checked_json(body: bytes) -> bytes:
    """The payload as the function gets it: JSON, ``{}`` when there is none (UNCONFIRMED: the runtimes'
    own marshallers cannot read an empty body, and AWS documents no default)."""
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except UnicodeDecodeError as exc:
        raise api_errors.not_json(f"Invalid UTF-8: {exc.reason}") from None
    except ValueError as exc:
        raise api_errors.not_json(str(exc)) from None
    return body


def _payload(result: Invocation) -> tuple[bytes, bool]:
    """The response body and whether it is a function error."""
    if result.ok:
        payload = result.body
        if payload is None:  # thread isolation: the value, serialised as awslambdaric does on 3.12+
            payload = json.dumps(result.value, ensure_ascii=False).encode()
        if len(payload) > outcomes.MAX_RESPONSE_BYTES:
            result = outcomes.too_large(result.request_id, result.duration_ms)
        else:
            return payload, False
    if result.body is not None:
        return result.body, True  # the runtime's own error document
    value = result.value
    if not isinstance(value, dict):
        value = {"errorType": result.error_type, "errorMessage": result.error_message}
    # The platform's own errors (timeout, exit, oversized response) come from Go code: compact JSON.
    return json.dumps(value, separators=(",", ":")).encode(), True


def _enum_error(value: str, member: str, allowed: tuple[str, ...]) -> api_errors.ApiError:
    return api_errors.validation(value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
