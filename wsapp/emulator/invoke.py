"""``wsapp invoke``: run a template's function on event files in this process (no Docker).

Events run in order against one embedded DynamoDB, so ``connect.json`` then ``message_broadcast.json``
shows a broadcast reaching the connection the first event stored. Management API calls are recorded,
not sent: the output is the handler's response and every message it would post.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from wsapp.emulator.awslambda import environ, output
from wsapp.emulator.awslambda.invocation import Invocation
from wsapp.emulator.awslambda.reload import CodeWatcher
from wsapp.emulator.awslambda.threads import FunctionRuntime
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.gateway import DEFAULT_DEV_SECRET, DUMMY_CREDENTIALS
from wsapp.emulator.logs import LogSink
from wsapp.emulator.services import sdk
from wsapp.emulator.services.dynamodb import EmbeddedDynamoDB
from wsapp.emulator.template import load_app
from wsapp.emulator.template.model import FunctionSpec, WebSocketApp

LOCAL_ENDPOINT = "http://wsapp-invoke.local"


@dataclass(frozen=True)
class Outcome:
    function: str
    invocation: Invocation
    posts: list[tuple[str, str, bytes]]


def function_for(app: WebSocketApp, event: Mapping[str, Any], name: str | None) -> FunctionSpec:
    """The function named, else the one API Gateway would call for this event."""
    if name is not None:
        if name not in app.functions:
            raise EmulatorError(f"no function {name!r}; the template has {sorted(app.functions)}")
        return app.functions[name]
    if event.get("type") == "REQUEST":
        route = app.routes.get("$connect")
        if route is None or route.authorizer is None:
            raise EmulatorError("an authorizer event, but $connect has no authorizer")
        return route.authorizer.function
    key = (event.get("requestContext") or {}).get("routeKey")
    route = app.routes.get(key) or app.routes.get("$default")
    if route is None or route.function is None:
        raise EmulatorError(f"no route {key!r} and no $default; pass --function")
    return route.function


def load_events(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    events = []
    for path in paths:
        try:
            events.append(json.loads(Path(path).read_text()))
        except OSError as exc:
            raise EmulatorError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise EmulatorError(f"{path} is not JSON: {exc}") from None
    return events


def invoke(
    template: str | Path,
    events: Sequence[Mapping[str, Any]],
    *,
    function: str | None = None,
    parameters: Mapping[str, str] | None = None,
    logs: Any = None,
) -> list[Outcome]:
    app = load_app(template, parameters, dev_secret=DEFAULT_DEV_SECRET)
    sink = LogSink(logs)
    recorder = sdk.PostRecorder()
    dynamodb = EmbeddedDynamoDB()
    wiring = {
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": f"{LOCAL_ENDPOINT}/{app.stage}",
        **DUMMY_CREDENTIALS,
    }
    environ.install()
    output.install()
    hook = None
    try:
        if app.tables:
            wiring["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb.start()
            dynamodb.create_tables(app.tables, app.account.region)
        boto3.DEFAULT_SESSION = None
        hook = sdk.install(recorder)
        watcher = CodeWatcher({f.code_root for f in app.functions.values()})
        watcher.purge()
        runtimes: dict[str, FunctionRuntime] = {}
        outcomes = []
        for event in events:
            spec = function_for(app, event, function)
            runtime = runtimes.get(spec.logical_id) or runtimes.setdefault(
                spec.logical_id, FunctionRuntime(spec, account=app.account, sink=sink, extra_env=wiring)
            )
            before = len(recorder.calls)
            result = runtime.invoke_here(event)
            outcomes.append(Outcome(spec.logical_id, result, recorder.calls[before:]))
        return outcomes
    finally:
        if hook is not None:
            sdk.uninstall(hook)
        dynamodb.stop()
        output.uninstall()
        environ.uninstall()
