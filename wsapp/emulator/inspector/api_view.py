"""The API as the template defines it, for the page: routes → integrations → functions, the authorizer
with its identity sources, and the stage's limits. Read from the model (never the raw template)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from wsapp.emulator.apigateway.config import Behaviour, Limits
from wsapp.emulator.template.model import FunctionSpec, RouteSpec, WebSocketApp


def function_view(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "logicalId": spec.logical_id,
        "name": spec.name,
        "handler": spec.handler,
        "runtime": spec.runtime,
        "timeout": spec.timeout,
        "memory": spec.memory,
        "architecture": spec.architecture,
        "reservedConcurrency": spec.reserved_concurrency,
        "layers": [layer.logical_id or layer.arn for layer in spec.layers],
    }


def route_view(route: RouteSpec) -> dict[str, Any]:
    integration = route.integration
    if integration is not None:
        target = integration.function or None
        kind = integration.kind
        detail = integration.uri
    else:
        target, kind, detail = route.function, "AWS_PROXY" if route.function else None, None
    view: dict[str, Any] = {
        "key": route.key,
        "integration": kind,
        "uri": detail,
        "function": target.logical_id if target is not None else None,
        "twoWay": route.two_way or route.route_response_only,
        "timeout": route.integration_timeout,
    }
    if route.authorizer is not None:
        view["authorizer"] = {
            "name": route.authorizer.name,
            "function": route.authorizer.function.logical_id,
            "identitySources": list(route.authorizer.identity_sources),
        }
    return view


def describe(
    app: WebSocketApp, limits: Limits, behaviour: Behaviour, *, urls: dict[str, str | None]
) -> dict[str, Any]:
    order = {"$connect": 0, "$disconnect": 1, "$default": 3}
    routes = sorted(app.routes.values(), key=lambda r: (order.get(r.key, 2), r.key))
    return {
        "apiId": app.api_id,
        "api": app.api_logical_id,
        "stage": app.stage,
        "selectionExpression": app.selection_expression,
        "routes": [route_view(r) for r in routes],
        "functions": {name: function_view(spec) for name, spec in sorted(app.functions.items())},
        "stageVariables": dict(app.stage_variables),
        "limits": asdict(limits),
        "behaviour": asdict(behaviour),
        "tables": [t.name for t in app.tables],
        "urls": urls,
    }
