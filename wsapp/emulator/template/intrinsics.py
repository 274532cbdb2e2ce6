"""Resolve the CloudFormation intrinsics a translated SAM template uses, as CloudFormation would.

Supported: ``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If`` with ``Conditions``, ``Fn::Equals``/``Not``/``And``/``Or``. Anything else is a
:class:`TemplateError` naming the resource, never a silent wrong value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from wsapp.emulator.errors import TemplateError

NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves values given refs (logical id or parameter → value) and attributes (id, attr → value)."""

    def __init__(
        self,
        refs: Mapping[str, Any],
        get_att: Callable[[str, str, str], Any],
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self._refs = refs
        self._get_att = get_att
        self._conditions = dict(conditions or {})
        self._condition_values: dict[str, bool] = {}

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            items = (self.resolve(v, where) for v in value)
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, arg, where)
        out = {k: self.resolve(v, where) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}

    def condition(self, name: str, where: str) -> bool:
        if name not in self._condition_values:
            if name not in self._conditions:
                raise TemplateError(f"unknown condition {name!r}", where)
            self._condition_values[name] = bool(self.resolve(self._conditions[name], where))
        return self._condition_values[name]

    def _ref(self, name: str, where: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self._refs:
            raise TemplateError(f"Ref to unknown parameter or resource {name!r}", where)
        return self._refs[name]

    def _intrinsic(self, key: str, arg: Any, where: str) -> Any:
        if key == "Ref":
            return self._ref(arg, where)
        if key == "Condition":
            return self.condition(arg, where)
        if key == "Fn::GetAtt":
            logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return self._get_att(logical, self.resolve(attr, where), where)
        if key == "Fn::Sub":
            return self._sub(arg, where)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(v) for v in self.resolve(items, where))
        if key == "Fn::Select":
            index, items = self.resolve(arg, where)
            return items[int(index)]
        if key == "Fn::Split":
            sep, text = self.resolve(arg, where)
            return text.split(sep)
        if key == "Fn::If":
            name, yes, no = arg
            return self.resolve(yes if self.condition(name, where) else no, where)
        if key == "Fn::Equals":
            left, right = self.resolve(arg, where)
            return left == right
        if key == "Fn::Not":
            return not self.resolve(arg, where)[0]
        if key == "Fn::And":
            return all(self.resolve(arg, where))
        if key == "Fn::Or":
            return any(self.resolve(arg, where))
        raise TemplateError(f"unsupported intrinsic function {key}", where)

    def _sub(self, arg: Any, where: str) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1], where))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self._refs and not name.startswith("AWS::"):
                logical, attr = name.split(".", 1)
                return str(self._get_att(logical, attr, where))
            return str(self._ref(name, where))

        # ``${!Literal}`` stays as ``${Literal}`` (CloudFormation's escape).
        return _SUB_VAR.sub(replace, text).replace("${!", "${")
