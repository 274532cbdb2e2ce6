"""Mapping templates: API Gateway's VTL variables (``$input``, ``$util``, ``$context``,
``$stageVariables``) rendered by airspeed, the Velocity engine made for AWS's templates
[DOC api-gateway-mapping-template-reference].

Values a template reads behave as the Java objects API Gateway hands it: maps print ``{k=v, k2=v2}`` and
answer ``size()``/``containsKey()``, lists print ``[a, b]``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from jsonpath_ng import parse as jsonpath

from wsapp.emulator.apigateway.proxy import find_header


class MappingError(Exception):
    """A template that does not parse or render: API Gateway logs it and the caller gets an error."""


class JavaMap(dict):
    def size(self) -> int:
        return len(self)

    def containsKey(self, key: object) -> bool:
        return key in self

    def isEmpty(self) -> bool:
        return not self

    def keySet(self) -> list[Any]:
        return JavaList(self.keys())

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in self.items()) + "}"


class JavaList(list):
    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def __str__(self) -> str:
        return "[" + ", ".join(_text(v) for v in self) + "]"


def java(value: Any) -> Any:
    """JSON values as the map and list types above, all the way down."""
    if isinstance(value, Mapping):
        return JavaMap((k, java(v)) for k, v in value.items())
    if isinstance(value, list):
        return JavaList(java(v) for v in value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Input:
    """``$input``: the message body, JSONPath over it, and the request's parameters."""

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]]) -> None:
        self.body = body
        self._params = params
        try:
            self._parsed: Any = json.loads(body) if body else {}
        except ValueError:
            self._parsed = None

    def path(self, expression: str) -> Any:
        """The JSONPath's value as an object the template can walk (None when nothing matches)."""
        if self._parsed is None:
            return self.body if expression.strip() == "$" else None
        try:
            found = [m.value for m in jsonpath(expression).find(self._parsed)]
        except Exception as exc:  # JsonPathParserError, and the plain Exceptions jsonpath-ng raises too
            raise MappingError(f"invalid JSONPath {expression!r}: {exc}") from None
        if not found:
            return None
        return java(found[0] if len(found) == 1 else found)

    def json(self, expression: str) -> str:
        """The JSONPath's value as JSON text."""
        return json.dumps(self.path(expression), separators=(",", ":"))

    def params(self, name: str | None = None) -> Any:
        """All parameters (``header``, ``querystring``, ``path``), or one by name, path first."""
        if name is None:
            return java({k: dict(v) for k, v in self._params.items()})
        for where in ("path", "querystring", "header"):
            values = self._params.get(where, {})
            if where == "header":
                found = find_header(values, name)
                if found is not None:
                    return found
            elif name in values:
                return values[name]
        return ""


class Util:
    """``$util`` [DOC api-gateway-mapping-template-reference, util-template-reference]."""

    def escapeJavaScript(self, text: Any) -> str:
        # Java's StringEscapeUtils.escapeJavaScript, as API Gateway's own: it escapes ' too (a known
        # trap: the result is not valid inside JSON when the text has single quotes).
        out = []
        for char in "" if text is None else str(text):
            if char in "\"'\\/":
                out.append("\\" + char if char != "/" else "\\/")
            elif char == "\n":
                out.append("\\n")
            elif char == "\r":
                out.append("\\r")
            elif char == "\t":
                out.append("\\t")
            elif char == "\b":
                out.append("\\b")
            elif char == "\f":
                out.append("\\f")
            elif ord(char) < 0x20 or ord(char) > 0x7E:
                out.append(f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else _surrogates(char))
            else:
                out.append(char)
        return "".join(out)

    def parseJson(self, text: str) -> Any:
        try:
            return java(json.loads(text))
        except ValueError as exc:
            raise MappingError(f"$util.parseJson: {exc}") from None

    def urlEncode(self, text: Any) -> str:
        return quote_plus("" if text is None else str(text), safe="*")  # Java's URLEncoder keeps * . - _

    def urlDecode(self, text: Any) -> str:
        return unquote_plus("" if text is None else str(text))

    def base64Encode(self, text: Any) -> str:
        return base64.b64encode(str(text).encode()).decode()

    def base64Decode(self, text: Any) -> str:
        return base64.b64decode(str(text)).decode("utf-8", "replace")


def _surrogates(char: str) -> str:
    data = char.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(data[i : i + 2], 'big'):04X}" for i in range(0, len(data), 2))


@lru_cache(maxsize=256)
def _compiled(template: str) -> airspeed.Template:
    """A template parsed once: airspeed parses on every merge otherwise, and each message renders one."""
    compiled = airspeed.Template(template)
    compiled.ensure_compiled()
    return compiled


def render(
    template: str,
    *,
    body: str,
    context: Mapping[str, Any],
    stage_variables: Mapping[str, str],
    params: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """One mapping template rendered for one request (or one integration response's body)."""
    namespace = {
        "input": Input(body, params or {}),
        "util": Util(),
        "context": java(context),
        "stageVariables": java(stage_variables),
    }
    try:
        return _compiled(template).merge(namespace)
    except MappingError:
        raise
    except Exception as exc:  # airspeed's TemplateError family, and errors raised by a called method
        raise MappingError(f"{type(exc).__name__}: {exc}") from None
