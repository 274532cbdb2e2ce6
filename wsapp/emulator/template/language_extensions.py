"""The ``AWS::LanguageExtensions`` transform, offline: what CloudFormation does to a template that
declares it before anything else reads the template [DOC "AWS::LanguageExtensions transform"].

- ``Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]`` in ``Conditions``,
  ``Resources`` (and their properties, at any depth) and ``Outputs``: the fragment once per item, with
  ``${Identifier}`` replaced in keys and strings, ``&{Identifier}`` by the item without its
  non-alphanumeric characters, and ``Ref: Identifier`` by the item [DOC "Fn::ForEach"]. The collection
  is a list or resolves to one from the parameters (``!Ref`` of a ``CommaDelimitedList``, a mapping).
  Loops nest up to 5 deep; a generated key that already exists is an error, as in CloudFormation.
- ``Fn::Length``, ``Fn::ToJsonString``, ``Fn::FindInMap`` (with ``DefaultValue``), and intrinsics as the
  argument of ``Ref``/``Fn::GetAtt``: resolved here when they need only parameters, mappings and pseudo
  parameters; an argument that names a resource is left for the walker's resolver (``intrinsics.py``),
  which knows resources' values.
- ``DeletionPolicy``/``UpdateReplacePolicy`` given by an intrinsic: resolved, and checked.

Why not a library: aws-sam-translator has no implementation; SAM CLI's
(``samcli.lib.cfn_language_extensions``) is part of the CLI, a dependency far too large for this;
cfn-lint's (``cfnlint.template.transforms._language_extensions``) is private and made for linting:
it reads parameters' defaults only, not the values given, and stands random strings in for what it
cannot resolve, which a linter tolerates and an emulator must not.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template.intrinsics import NO_VALUE, Resolver

TRANSFORM = "AWS::LanguageExtensions"
SERVERLESS = "AWS::Serverless-2016-10-31"
FOREACH = "Fn::ForEach::"
MAX_DEPTH = 5  # "You can nest up to 5 levels of Fn::ForEach loops" [DOC "Fn::ForEach"]
SECTIONS = ("Conditions", "Resources", "Outputs")  # where Fn::ForEach may appear [DOC "Fn::ForEach"]
POLICIES = {
    "DeletionPolicy": ("Delete", "Retain", "RetainExceptOnDelete", "Snapshot"),
    "UpdateReplacePolicy": ("Delete", "Retain", "Snapshot"),
}
_STATIC = ("Fn::Length", "Fn::ToJsonString", "Fn::FindInMap")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")


def transforms(template: Mapping[str, Any]) -> list[str]:
    declared = template.get("Transform") or []
    return [declared] if isinstance(declared, str) else [str(t) for t in declared]


def uses(template: Mapping[str, Any]) -> bool:
    return TRANSFORM in transforms(template)


def check_undeclared(template: Mapping[str, Any]) -> None:
    """A loop in a template that does not declare the transform: CloudFormation refuses it too."""
    for section in SECTIONS:
        loops = [k for k in template.get(section) or {} if str(k).startswith(FOREACH)]
        if loops:
            raise TemplateError(f"{loops[0]} needs Transform: {TRANSFORM} (before {SERVERLESS})", section)


def expand(template: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` transformed; ``values``: what ``Ref`` gives for each parameter (lists for the list
    types) and pseudo parameter. The answer declares the remaining transforms (SAM's, if any)."""
    declared = transforms(template)
    rest = [t for t in declared if t != TRANSFORM]
    if SERVERLESS in rest and declared.index(SERVERLESS) < declared.index(TRANSFORM):
        # CloudFormation runs the transforms in the order listed: SAM would meet Fn::ForEach first.
        raise TemplateError(f"Transform: {TRANSFORM} must be listed before {SERVERLESS}")
    out = copy.deepcopy(dict(template))
    collections = Resolver(values, _no_attribute, None, out.get("Mappings"))  # loops come before conditions
    for section in SECTIONS:
        if isinstance(out.get(section), dict):
            out[section] = _loops(out[section], {}, section, 0, collections, top=True)
    static = Resolver(values, _no_attribute, out.get("Conditions"), out.get("Mappings"))
    for section in SECTIONS:
        if isinstance(out.get(section), dict):
            out[section] = {k: _resolve_static(v, static, k) for k, v in out[section].items()}
    for logical, resource in (out.get("Resources") or {}).items():
        if isinstance(resource, dict):
            _policies(logical, resource, static)
    if rest:
        out["Transform"] = rest[0] if len(rest) == 1 else rest
    else:
        out.pop("Transform", None)
    return out


def _no_attribute(logical: str, attr: str, where: str) -> Any:
    raise TemplateError(f"Fn::GetAtt {logical}.{attr} is known only at deploy time", where)


def _loops(
    node: Any, items: Mapping[str, str], where: str, depth: int, static: Resolver, *, top: bool = False
) -> Any:
    """``node`` with its loops unrolled and ``items`` (loop identifier → current item) substituted;
    ``top``: ``node`` is a section, whose keys name what an error is about."""
    if isinstance(node, list):
        return [_loops(v, items, where, depth, static) for v in node]
    if isinstance(node, str):
        return _substitute(node, items)
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and "Ref" in node and isinstance(node["Ref"], str) and node["Ref"] in items:
        return items[node["Ref"]]
    out: dict[str, Any] = {}
    for key, value in node.items():
        key = _substitute(key, items)
        if not key.startswith(FOREACH):
            _put(out, key, _loops(value, items, key if top else where, depth, static), where)
            continue
        if depth >= MAX_DEPTH:
            raise TemplateError(f"{key}: Fn::ForEach loops nest at most {MAX_DEPTH} deep", where)
        identifier, collection, fragment = _loop_parts(key, value, items, where, static)
        for item in collection:
            inner = {**items, identifier: item}
            for out_key, out_value in _loops(fragment, inner, where, depth + 1, static, top=top).items():
                _put(out, out_key, out_value, f"{where} ({key})")
    return out


def _loop_parts(
    key: str, value: Any, items: Mapping[str, str], where: str, static: Resolver
) -> tuple[str, list[str], dict[str, Any]]:
    if not isinstance(value, list) or len(value) != 3:
        raise TemplateError(f"{key} must be [Identifier, Collection, {{OutputKey: OutputValue}}]", where)
    identifier, collection, fragment = value
    if not isinstance(identifier, str) or not re.fullmatch(r"[A-Za-z0-9]+", identifier):
        raise TemplateError(f"{key}: the identifier must be alphanumeric text, not {identifier!r}", where)
    if identifier in items:
        raise TemplateError(f"{key}: identifier {identifier!r} is already used by an enclosing loop", where)
    if not isinstance(fragment, dict):
        raise TemplateError(f"{key}: the third element must be {{OutputKey: OutputValue}}", where)
    collection = _loops(collection, items, where, 0, static)
    try:
        resolved = static.resolve(collection, "")  # the reason alone: the line names the place
    except TemplateError as exc:
        raise TemplateError(
            f"{key}: its collection must resolve from parameters and mappings ({exc})", where
        ) from None
    if not isinstance(resolved, list) or not all(isinstance(v, (str, int, float, bool)) for v in resolved):
        raise TemplateError(f"{key}: the collection must be a list of text values, not {resolved!r}", where)
    return identifier, [_text(v) for v in resolved], fragment


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _substitute(text: str, items: Mapping[str, str]) -> str:
    for identifier, item in items.items():
        text = text.replace(f"${{{identifier}}}", item)
        text = text.replace(f"&{{{identifier}}}", _NOT_ALPHANUMERIC.sub("", item))
    return text


def _put(out: dict[str, Any], key: str, value: Any, where: str) -> None:
    if key in out:
        raise TemplateError(f"Fn::ForEach generates {key!r}, which already exists", where)
    out[key] = value


def _resolve_static(node: Any, static: Resolver, where: str) -> Any:
    """Resolve the transform's functions (and intrinsic names in ``Ref``/``Fn::GetAtt``) that need no
    resource; leave the others, children first."""
    if isinstance(node, list):
        return [_resolve_static(v, static, where) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _resolve_static(v, static, where) for k, v in node.items()}
    if len(node) != 1:
        return node
    ((key, arg),) = node.items()
    if key == "Ref" and isinstance(arg, dict):
        return {"Ref": _try(arg, static, where)}
    if key == "Fn::GetAtt" and isinstance(arg, list):
        return {"Fn::GetAtt": [_try(a, static, where) if isinstance(a, dict) else a for a in arg]}
    if key in _STATIC:
        return _try(node, static, where)
    return node


def _try(node: Any, static: Resolver, where: str) -> Any:
    try:
        value = static.resolve(node, where)
    except TemplateError:
        return node  # names a resource: known when the walker resolves it
    return node if value is NO_VALUE else value


def _policies(logical: str, resource: dict[str, Any], static: Resolver) -> None:
    for name, allowed in POLICIES.items():
        if name not in resource or isinstance(resource[name], str):
            continue
        try:
            value = static.resolve(resource[name], "")
        except TemplateError as exc:
            message = f"{name} must resolve from parameters and mappings ({exc})"
            raise TemplateError(message, logical) from None
        if value not in allowed:
            raise TemplateError(f"{name} {value!r} is not one of {', '.join(allowed)}", logical)
        resource[name] = value
