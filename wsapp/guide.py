"""Display helpers for the notebooks (never imported by handlers).

Each turns something wsapp produces into a small, sorted, JSON-shaped value, so a notebook cell is
one call and its stored output is exact: no default reprs, no absolute paths, no dict-order noise.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from wsapp.emulator.invoke import Outcome

T = TypeVar("T")
_ARN_OF = re.compile(r"\$\{(\w+)\.Arn\}|\$\{(\w+)\}/invocations")  # ${Fn.Arn}, or an alias's ARN


def show(value: Any) -> None:
    """Print ``value`` as indented JSON with sorted keys (the one way the notebooks print structures)."""
    print(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def shape(event: Mapping[str, Any]) -> dict[str, list[str]]:
    """The keys of an event, top level and ``requestContext``, sorted: what a handler can rely on."""
    return {
        "keys": sorted(event),
        "requestContext": sorted(event.get("requestContext") or {}),
    }


def _decoded(body: bytes) -> Any:
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def outcome(result: Outcome) -> dict[str, Any]:
    """One ``wsapp.emulator.invoke`` outcome without its volatile parts (request id, duration)."""
    call = result.invocation
    summary: dict[str, Any] = {"function": result.function}
    if call.ok:
        summary["response"] = call.value
    else:
        summary["error"] = {"type": call.error_type, "message": call.error_message}
    summary["posted"] = [
        {"method": method, "connectionId": connection, "data": _decoded(body)}
        for method, connection, body in result.posts
    ]
    return summary


# -- a translated (plain CloudFormation) template -------------------------------------------------


def resources_of(cfn: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """``{logical id: Properties}`` of every resource of type ``kind``, sorted by logical id."""
    found = {n: r.get("Properties") or {} for n, r in cfn["Resources"].items() if r.get("Type") == kind}
    return dict(sorted(found.items()))


def resource_counts(cfn: Mapping[str, Any]) -> dict[str, int]:
    """How many resources of each type, sorted by type."""
    return dict(sorted(Counter(r["Type"] for r in cfn["Resources"].values()).items()))


def _ref(value: Any) -> str | None:
    """The logical id a ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` (``${X.Arn}``, ``${X}/invocations``) names."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return str(att[0] if isinstance(att, list) else att.split(".")[0])
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            match = _ARN_OF.search(sub if isinstance(sub, str) else str(sub[0]))
            return (match.group(1) or match.group(2)) if match else None
        if "Fn::Join" in value:
            refs = [_ref(part) for part in value["Fn::Join"][1]]
            return next((r for r in refs if r), None)
    return None


def route_chains(cfn: Mapping[str, Any]) -> list[dict[str, Any]]:
    """For each route, sorted by key: route → integration → function → its ``Handler`` (+ authorizer).

    An integration that invokes an alias (``AutoPublishAlias``) leads to the alias's function.
    """
    integrations = resources_of(cfn, "AWS::ApiGatewayV2::Integration")
    functions = resources_of(cfn, "AWS::Lambda::Function")
    authorizers = resources_of(cfn, "AWS::ApiGatewayV2::Authorizer")
    aliases = {n: _ref(a.get("FunctionName")) for n, a in resources_of(cfn, "AWS::Lambda::Alias").items()}

    def function_of(target: str | None) -> str | None:
        return aliases.get(target or "", target)

    chains = []
    for name, route in resources_of(cfn, "AWS::ApiGatewayV2::Route").items():
        integration = _ref(route.get("Target"))
        function = function_of(_ref(integrations.get(integration or "", {}).get("IntegrationUri")))
        chain: dict[str, Any] = {
            "routeKey": route["RouteKey"],
            "route": name,
            "integration": integration,
            "function": function,
            "handler": functions.get(function or "", {}).get("Handler"),
        }
        authorizer = _ref(route.get("AuthorizerId"))
        if authorizer:
            auth_function = function_of(_ref(authorizers[authorizer].get("AuthorizerUri")))
            chain["authorizer"] = {
                "name": authorizer,
                "function": auth_function,
                "handler": functions.get(auth_function or "", {}).get("Handler"),
            }
        chains.append(chain)
    return sorted(chains, key=lambda c: c["routeKey"])


def iam_statements(cfn: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per execution role: its managed policy ARNs and every inline statement."""
    roles = {}
    for name, role in resources_of(cfn, "AWS::IAM::Role").items():
        statements: list[Any] = []
        for policy in role.get("Policies") or []:
            statements.extend(policy["PolicyDocument"]["Statement"])
        managed = sorted(map(str, role.get("ManagedPolicyArns") or []))
        roles[name] = {"managed": managed, "statements": statements}
    return roles


def template_source(path: Path | str, *logical_ids: str) -> str:
    """The YAML of ``logical_ids`` as written in the template at ``path``: each entry of a top-level
    section (``Resources``, ``Parameters``, ``Outputs``) with its comment lines, in the file's order.

    Read from the file itself, so a notebook shows the template it runs, never a copy of it.
    """
    wanted = set(logical_ids)
    blocks: list[str] = []
    current: list[str] | None = None
    comments: list[str] = []
    for line in Path(path).read_text().splitlines():
        entry = re.match(r"  ([A-Za-z0-9]+):", line)
        comment = line.startswith("  #")
        if current is not None and (entry or comment or (line and not line[0].isspace())):
            blocks.append("\n".join(current).rstrip())
            current = None
        if comment:
            comments.append(line)  # a comment right above an entry belongs to it
            continue
        if entry and entry.group(1) in wanted:
            current = [*comments, line]
            wanted.discard(entry.group(1))
        elif current is not None:
            current.append(line)
        comments = []
    if current is not None:
        blocks.append("\n".join(current).rstrip())
    if wanted:
        raise KeyError(f"not in {Path(path).name}: {', '.join(sorted(wanted))}")
    return "\n\n".join(blocks)


def settled(line: str) -> None:
    """A ``say`` for ``wsapp.deploy.apply.deploy``/``destroy`` that prints every line but the stack
    events still ``_IN_PROGRESS``: each resource shows once, when it is done."""
    if "_IN_PROGRESS " not in line:
        print(line)


def handshake_status(url: str, subprotocols: list[str] | None = None, timeout: float = 10) -> str:
    """How a WebSocket handshake to ``url`` ends, as one line: ``101 (subprotocol X)`` when it opens
    (the connection is closed again at once), else the HTTP status and body the server refused it with."""
    import websocket

    try:
        ws = websocket.create_connection(url, subprotocols=subprotocols, timeout=timeout)
    except websocket.WebSocketBadStatusException as exc:
        body = exc.resp_body.decode(errors="replace") if isinstance(exc.resp_body, bytes) else exc.resp_body
        return f"{exc.status_code} {body or ''}".rstrip()
    ws.close()
    return f"101 (subprotocol {ws.subprotocol})"


async def sampled(
    work: Awaitable[T], read: Callable[[], Any], every: float = 0.02
) -> tuple[T, list[tuple[float, Any]]]:
    """Await ``work`` while calling ``read()`` every ``every`` seconds; its result, and the samples as
    ``(seconds since the start, value)`` — e.g. how many execution environments are live under load."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    samples: list[tuple[float, Any]] = []
    task = asyncio.ensure_future(work)
    while not task.done():
        samples.append((loop.time() - started, read()))
        await asyncio.wait([task], timeout=every)
    samples.append((loop.time() - started, read()))
    return task.result(), samples
