"""One call of a non-proxy integration, as API Gateway makes it: request validation against the route's
model, the request template (or passthrough), the request parameters, the backend call, the integration
response its selection expression picks, and that response's template
[DOC apigateway-websocket-api-integration-requests, -integration-responses, websocket-api-data-mapping]."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from wsapp.emulator.apigateway import routing
from wsapp.emulator.apigateway.integrations import selection
from wsapp.emulator.apigateway.integrations.backends import BackendError, Backends, Request
from wsapp.emulator.apigateway.integrations.mapping import MappingError, render
from wsapp.emulator.template.model import IntegrationSpec, RouteSpec

INTERNAL = "Internal server error"
TIMED_OUT = "Endpoint request timed out"
# UNCONFIRMED: the texts of the error frames for a body its model rejects and for a body no template
# takes under PassthroughBehavior NEVER/WHEN_NO_TEMPLATES (REST APIs answer these two with 400 and 415).
INVALID_BODY = "Invalid request body"
UNSUPPORTED = "Unsupported Media Type"


@dataclass(frozen=True)
class Outcome:
    status: int  # the backend's status (the $connect handshake is accepted on 2xx)
    payload: str | None = None  # what a two-way route sends back
    error: str | None = None  # the error frame's message, when the call failed


class NonProxy:
    def __init__(self, backends: Backends, log: Callable[[str], None]) -> None:
        self.backends = backends
        self.log = log

    async def run(
        self, route: RouteSpec, event: Mapping[str, Any], timeout: float, *, two_way: bool
    ) -> Outcome:
        spec = route.integration
        assert spec is not None
        request_id = event["requestContext"]["requestId"]
        body = event.get("body") or ""
        context = {**event["requestContext"], "isBase64Encoded": event.get("isBase64Encoded", False)}
        stage_variables = event.get("stageVariables") or {}
        headers = event.get("headers") or {}
        query = event.get("queryStringParameters") or {}
        params = {"header": headers, "querystring": query, "path": {}}
        problem = _invalid(route, body)
        if problem is not None:
            self.log(f"{request_id} Request body does not match model schema: {problem}")
            return Outcome(400, error=INVALID_BODY)
        try:
            key, template = selection.request_template(spec.request_templates, spec.template_selection, body)
            if template is None:
                if spec.passthrough == "NEVER" or (
                    spec.passthrough == "WHEN_NO_TEMPLATES" and spec.request_templates
                ):
                    self.log(
                        f"{request_id} no request template applies (PassthroughBehavior {spec.passthrough})"
                    )
                    return Outcome(415, error=UNSUPPORTED)
                integration_body = body  # passed through as it came
            else:
                integration_body = render(
                    template, body=body, context=context, stage_variables=stage_variables, params=params
                )
        except MappingError as exc:
            self.log(f"{request_id} Execution failed: request template {key!r}: {exc}")
            return Outcome(500, error=INTERNAL)
        request = _with_parameters(spec, integration_body, body, context, stage_variables, headers, query)
        try:
            response = await asyncio.wait_for(self.backends.call(spec, request), timeout)
        except TimeoutError:
            self.log(f"{request_id} Execution failed: integration timed out after {timeout:g} s")
            return Outcome(504, error=TIMED_OUT)
        except BackendError as exc:
            self.log(f"{request_id} Execution failed due to an internal error: {exc}")
            return Outcome(500, error=INTERNAL)
        self.log(f"{request_id} {spec.kind} integration answered {response.status}")
        if spec.kind == "HTTP_PROXY":  # the backend's body goes back as it is; no integration responses
            return Outcome(response.status, response.body)
        value = selection.response_value(
            spec.response_selection, response.status, response.headers, body, response.error
        )
        chosen = selection.integration_response(spec.responses, value)
        if chosen is None:
            # The log line API Gateway writes in this case (re:Post QU5uSB74xLRg2NBJ4MGzQbgw). A one-way
            # route returns nothing whatever the integration responses say [DOC integration-responses].
            self.log(
                f"{request_id} Execution failed due to configuration error: No match for output mapping "
                f"and no default output mapping configured. Endpoint response status code: {response.status}"
            )
            return Outcome(response.status, error=INTERNAL if two_way else None)
        out = selection.response_template(chosen, response.body)
        if out is None:
            return Outcome(response.status, response.body)
        try:
            payload = render(out, body=response.body, context=context, stage_variables=stage_variables)
        except MappingError as exc:
            self.log(f"{request_id} Execution failed: response template of {chosen.key!r}: {exc}")
            return Outcome(500, error=INTERNAL)
        return Outcome(response.status, payload)


def _invalid(route: RouteSpec, body: str) -> str | None:
    """Why the body fails the route's request model (Draft 4 JSON Schema), or None."""
    if not route.models:
        return None
    key = routing.evaluate(route.model_selection, body) if route.model_selection else None
    schema = route.models.get(key or "") or route.models.get("$default")
    if schema is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    error = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(schema).iter_errors(document))
    return None if error is None else error.message


def _with_parameters(
    spec: IntegrationSpec,
    integration_body: str,
    body: str,
    context: Mapping[str, Any],
    stage_variables: Mapping[str, str],
    headers: Mapping[str, str],
    query: Mapping[str, str],
) -> Request:
    out_headers: dict[str, str] = {}
    out_query: dict[str, str] = {}
    for target, source in spec.request_parameters.items():
        value = selection.parameter_value(
            source, body=body, context=context, stage_variables=stage_variables, headers=headers, query=query
        )
        where, _, name = target.removeprefix("integration.request.").partition(".")
        (out_headers if where == "header" else out_query)[name] = value
    return Request(integration_body, out_headers, out_query)
