"""An ``AWS::ApiGatewayV2::Integration`` as the emulator runs it: type, target and mappings checked here,
so a template the gateway cannot serve is refused at start with one line, not at the first message."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template.model import (
    FunctionSpec,
    IntegrationResponseSpec,
    IntegrationSpec,
    ServiceTarget,
)

TYPES = ("AWS_PROXY", "AWS", "MOCK", "HTTP", "HTTP_PROXY")
PASSTHROUGH = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
INTEGRATION_KEYS = (
    "ApiId",
    "IntegrationType",
    "IntegrationUri",
    "IntegrationMethod",
    "TimeoutInMillis",
    "RequestTemplates",
    "TemplateSelectionExpression",
    "RequestParameters",
    "PassthroughBehavior",
    "IntegrationResponseSelectionExpression",
)
RESPONSE_KEYS = (
    "ApiId",
    "IntegrationId",
    "IntegrationResponseKey",
    "ResponseTemplates",
    "TemplateSelectionExpression",
)
# arn:aws:apigateway:{region}:{service}:{action|path}/{rest} [DOC apigatewayv2 Integration IntegrationUri]
SERVICE_URI = re.compile(r"arn:aws[\w-]*:apigateway:([\w-]+):([\w.-]+):(action|path)/(.+)")
LAMBDA_PATH = re.compile(r"^\d{4}-\d{2}-\d{2}/functions/.+/invocations$")
# Route request sources a RequestParameters value may name [DOC websocket-api-data-mapping].
SOURCE = re.compile(
    r"^('.*'|route\.request\.(header|querystring|multivalueheader|multivaluequerystring)\.[A-Za-z0-9._$-]+"
    r"|route\.request\.body\..+|stageVariables\.\w+|context\.[\w.]+)$"
)
TARGET = re.compile(r"^integration\.request\.(header|querystring|path)\.[A-Za-z0-9._$-]+$")


def build(
    logical: str,
    props: Mapping[str, Any],
    responses: list[Mapping[str, Any]],
    function_for_uri: Callable[[Any, str], FunctionSpec],
) -> tuple[FunctionSpec | None, IntegrationSpec | None]:
    """A proxy integration's function, or the non-proxy integration's spec (the other is None)."""
    kind = props.get("IntegrationType")
    if kind not in TYPES:
        raise TemplateError(f"IntegrationType {kind!r} is not one of {', '.join(TYPES)}", logical)
    uri = props.get("IntegrationUri")
    if kind == "AWS_PROXY":
        return function_for_uri(uri, logical), None
    function, service = None, None
    if kind == "AWS":
        match = SERVICE_URI.fullmatch(str(uri or ""))
        if match is None:
            raise TemplateError(f"IntegrationUri {uri!r} is not an AWS service or Lambda URI", logical)
        if match.group(2) == "lambda" and LAMBDA_PATH.match(match.group(4)):
            function = function_for_uri(uri, logical)
        else:
            service = ServiceTarget(*match.groups())
    elif kind in ("HTTP", "HTTP_PROXY"):
        if urlsplit(str(uri or "")).scheme not in ("http", "https"):
            raise TemplateError(f"IntegrationUri {uri!r} of an {kind} integration is not a URL", logical)
    passthrough = str(props.get("PassthroughBehavior", "WHEN_NO_MATCH"))
    if passthrough not in PASSTHROUGH:
        raise TemplateError(f"PassthroughBehavior {passthrough!r} is not one of {PASSTHROUGH}", logical)
    parameters = _strings(props.get("RequestParameters"), "RequestParameters", logical)
    for target, source in parameters.items():
        if not TARGET.match(target):
            raise TemplateError(
                f"RequestParameters: {target!r} is not integration.request.<where>.<name>",
                logical,
            )
        if not SOURCE.match(source):
            raise TemplateError(
                f"RequestParameters: {target} maps from {source!r}, not a known source",
                logical,
            )
    spec = IntegrationSpec(
        logical_id=logical,
        kind=str(kind),
        uri=None if uri is None else str(uri),
        method=str(props.get("IntegrationMethod") or "POST").upper(),
        function=function,
        service=service,
        request_templates=_strings(props.get("RequestTemplates"), "RequestTemplates", logical),
        template_selection=_optional(props.get("TemplateSelectionExpression")),
        request_parameters=parameters,
        passthrough=passthrough,
        response_selection=_optional(props.get("IntegrationResponseSelectionExpression")),
        responses=tuple(_response(r, logical) for r in responses),
    )
    return None, spec


def _response(props: Mapping[str, Any], logical: str) -> IntegrationResponseSpec:
    key = str(props.get("IntegrationResponseKey", ""))
    if key != "$default" and not (len(key) >= 2 and key.startswith("/") and key.endswith("/")):
        raise TemplateError(f"IntegrationResponseKey {key!r} is neither $default nor /regex/", logical)
    if key != "$default":
        try:
            re.compile(key[1:-1])
        except re.error as exc:
            raise TemplateError(
                f"IntegrationResponseKey {key!r} is not a regular expression: {exc}", logical
            ) from None
    return IntegrationResponseSpec(
        key=key,
        templates=_strings(props.get("ResponseTemplates"), "ResponseTemplates", logical),
        template_selection=_optional(props.get("TemplateSelectionExpression")),
    )


def _strings(value: Any, name: str, logical: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TemplateError(f"{name} must be a map of strings", logical)
    return {str(k): str(v) for k, v in value.items()}


def _optional(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
