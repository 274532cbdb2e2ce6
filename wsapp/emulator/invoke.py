"""``wsapp invoke``: run a template's function on event files in this process (no Docker).

Events run in order against one embedded DynamoDB, so ``connect.json`` then ``message_broadcast.json``
shows a broadcast reaching the connection the first event stored. Management API calls are recorded,
not sent: the output is the handler's response and every message it would post.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from wsapp.emulator.awslambda.dependencies import Dependencies
from wsapp.emulator.awslambda.invocation import Invocation
from wsapp.emulator.awslambda.service import LambdaService, SdkRoute, default_isolation
from wsapp.emulator.awslambda.threads import FunctionRuntime
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.gateway import DEFAULT_DEV_SECRET, project_cache
from wsapp.emulator.logs import LogSink
from wsapp.emulator.services import sdk
from wsapp.emulator.services.moto_server import EmbeddedServices
from wsapp.emulator.services.resources import create_all
from wsapp.emulator.services.sdk_channel import SdkChannel
from wsapp.emulator.template import load_app
from wsapp.emulator.template.model import FunctionSpec, WebSocketApp

LOCAL_ENDPOINT = "http://wsapp-invoke.local"
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    function: str
    invocation: Invocation
    posts: list[tuple[str, str, bytes]]  # (method, connection id, body) of every @connections call

    @property
    def messages(self) -> list[Any]:
        """What the function posted to connections, in order: each body JSON-decoded (else as text)."""
        decoded = []
        for method, _, body in self.posts:
            if method == "POST":
                text = body.decode(errors="replace")
                try:
                    decoded.append(json.loads(text))
                except ValueError:
                    decoded.append(text)
        return decoded


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
    isolation: str | None = None,
    env_vars: Mapping[str, Mapping[str, str]] | None = None,
    install_dependencies: bool = True,
) -> list[Outcome]:
    """Run each event through the function API Gateway would call for it (or ``function``), in order."""
    app = load_app(template, parameters, dev_secret=DEFAULT_DEV_SECRET)
    specs = [function_for(app, event, function) for event in events]
    mode = isolation or default_isolation()
    sink = LogSink(logs)
    recorder = sdk.PostRecorder()
    dynamodb = EmbeddedServices()
    management = f"{LOCAL_ENDPOINT}/{app.stage}"
    wiring = {"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": management}
    try:
        services = dynamodb.start()
        wiring |= {"AWS_ENDPOINT_URL": services, "AWS_ENDPOINT_URL_DYNAMODB": services}
        create_all(app, lambda name: dynamodb.client(name, app.account.region))
        service = LambdaService(
            {spec.logical_id: spec for spec in specs},
            account=app.account,
            sink=sink,
            wiring=wiring,
            isolation=mode,
            concurrency=1,
            request_ids=lambda: str(uuid.uuid4()),
            env_vars=env_vars,
            dependencies=Dependencies(project_cache(Path(template)), install=install_dependencies, sink=sink),
        )
        if mode == "thread":
            return _invoke_in_threads(service, specs, events, recorder, dynamodb)
        return _in_own_loop(_invoke_in_processes(service, specs, events, recorder, management, dynamodb, app))
    finally:
        dynamodb.stop()


async def _invoke_in_processes(
    service: LambdaService,
    specs: Sequence[FunctionSpec],
    events: Sequence[Mapping[str, Any]],
    recorder: sdk.PostRecorder,
    endpoint: str,
    dynamodb: EmbeddedServices,
    app: WebSocketApp,
) -> list[Outcome]:
    channel = SdkChannel()
    channel.add(endpoint, recorder)
    channel.add(dynamodb.endpoint, dynamodb.answer_dynamodb, blocking=True)
    route = SdkRoute(await channel.start(), tuple(channel.endpoints))
    try:
        await service.start(route)
        outcomes = []
        for spec, event in zip(specs, events, strict=True):
            before = len(recorder.calls)
            result = await service.functions[spec.logical_id].submit(dict(event))
            outcomes.append(Outcome(spec.logical_id, result, recorder.calls[before:]))
        return outcomes
    finally:
        await service.stop()
        await channel.stop()


def _invoke_in_threads(
    service: LambdaService,
    specs: Sequence[FunctionSpec],
    events: Sequence[Mapping[str, Any]],
    recorder: sdk.PostRecorder,
    dynamodb: EmbeddedServices | None,
) -> list[Outcome]:
    hooks = []
    try:
        _in_own_loop(service.start())
        hooks.append(sdk.install(recorder))  # every @connections call is recorded, whatever its endpoint
        if dynamodb is not None:
            event = "before-send.dynamodb"
            hooks.append(sdk.install(dynamodb.answer, endpoint=dynamodb.endpoint, event=event))
        outcomes = []
        for spec, event in zip(specs, events, strict=True):
            runtime = service.functions[spec.logical_id]
            assert isinstance(runtime, FunctionRuntime)
            before = len(recorder.calls)
            outcomes.append(Outcome(spec.logical_id, runtime.invoke_here(event), recorder.calls[before:]))
        return outcomes
    finally:
        for hook in hooks:
            sdk.uninstall(hook)
        service.close_threads()


def _in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on an event loop of its own, in a thread: callable from a notebook cell too."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=run, name="wsapp-invoke")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
