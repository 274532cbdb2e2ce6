"""Selection expressions of non-proxy integrations [DOC apigateway-websocket-api-selection-expressions]:
which request template, which integration response, which response template; and the request
parameters mapped onto the integration request [DOC websocket-api-data-mapping]."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wsapp.emulator.apigateway import routing
from wsapp.emulator.apigateway.proxy import find_header
from wsapp.emulator.template.model import IntegrationResponseSpec

DEFAULT = "$default"
# UNCONFIRMED: AWS does not say which request template applies when an integration has templates but no
# TemplateSelectionExpression. Public apps that work on AWS key their only template "application/json"
# or "$default" without one, so those keys are tried, in this order.
WITHOUT_EXPRESSION = ("$default", "application/json")
_INTEGRATION = re.compile(
    r"\$\{?integration\.response\.(statuscode|header\.[\w-]+|multivalueheader\.[\w-]+)\}?"
)


def request_template(
    templates: Mapping[str, str], expression: str | None, body: str
) -> tuple[str | None, str | None]:
    """(key, template) chosen for ``body``; (None, None) when none applies."""
    if not templates:
        return None, None
    if expression is None:
        for key in WITHOUT_EXPRESSION:
            if key in templates:
                return key, templates[key]
        return None, None
    key = routing.evaluate(expression, body)
    if key is not None and key in templates:
        return key, templates[key]
    if DEFAULT in templates:  # $default is the catch-all [DOC selection expression summary]
        return DEFAULT, templates[DEFAULT]
    return None, None


def response_value(
    expression: str | None, status: int, headers: Mapping[str, str], body: str, error: str | None
) -> str:
    """What the integration response keys are matched against: the status code by default
    (``${integration.response.statuscode}`` is what API Gateway sets when none is given) — for a Lambda
    function's error, its error message, as REST APIs document for Lambda integrations (UNCONFIRMED for
    WebSocket APIs)."""
    if error is not None:
        return error
    if expression is None:
        return str(status)

    def value(match: re.Match[str]) -> str:
        what = match.group(1)
        if what == "statuscode":
            return str(status)
        return find_header(headers, what.split(".", 1)[1]) or ""

    result = _INTEGRATION.sub(value, expression)
    if "request.body" in result:
        return routing.evaluate(result, body) or ""
    return result.replace("\\$", "$")


def integration_response(
    responses: tuple[IntegrationResponseSpec, ...], value: str
) -> IntegrationResponseSpec | None:
    """The first ``/regex/`` key that matches all of ``value``, else ``$default``, else None."""
    default = None
    for response in responses:
        if response.key == DEFAULT:
            default = response
        elif re.fullmatch(response.key[1:-1], value, flags=re.DOTALL):
            return response
    return default


def response_template(response: IntegrationResponseSpec, body: str) -> str | None:
    """The response template for ``body`` (None: the backend's body goes as it is)."""
    if not response.templates:
        return None
    _, template = request_template(response.templates, response.template_selection, body)
    return template


def parameter_value(
    source: str,
    *,
    body: str,
    context: Mapping[str, Any],
    stage_variables: Mapping[str, str],
    headers: Mapping[str, str],
    query: Mapping[str, str],
) -> str:
    """One RequestParameters source expression's value (``''`` when it names nothing)."""
    if source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("route.request.body."):
        return routing.evaluate("$request.body." + source.removeprefix("route.request.body."), body) or ""
    if source.startswith("stageVariables."):
        return stage_variables.get(source.removeprefix("stageVariables."), "")
    if source.startswith("context."):
        value: Any = context
        for part in source.removeprefix("context.").split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return "" if value is None else str(value)
    where, _, name = source.removeprefix("route.request.").partition(".")
    if where in ("header", "multivalueheader"):
        return find_header(headers, name) or ""
    return query.get(name, "")
