"""Resolve the CloudFormation intrinsics a translated SAM template uses, as CloudFormation would.

Supported: ``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If`` with ``Conditions``, ``Fn::Equals``/``Not``/``And``/``Or``, ``Fn::FindInMap`` (with the
``DefaultValue`` of the AWS::LanguageExtensions transform), and that transform's ``Fn::Length`` and
``Fn::ToJsonString`` where they are left for deploy time (an argument that names a resource). Anything
else is a :class:`TemplateError` naming the resource, never a silent wrong value.
"""

from __future__ import annotations

import json
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
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self._refs = refs
        self._get_att = get_att
        self._conditions = dict(conditions or {})
        self._mappings = mappings or {}
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
            # An intrinsic as the name: the LanguageExtensions transform allows it [DOC
            # "AWS::LanguageExtensions transform"]; plain CloudFormation refuses the template before this.
            return self._ref(self.resolve(arg, where) if isinstance(arg, dict) else arg, where)
        if key == "Condition":
            return self.condition(arg, where)
        if key == "Fn::GetAtt":
            logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return self._get_att(str(self.resolve(logical, where)), self.resolve(attr, where), where)
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
        if key == "Fn::FindInMap":
            return self._find_in_map(arg, where)
        if key == "Fn::Length":
            items = self.resolve(arg, where)
            if not isinstance(items, list):
                raise TemplateError(f"Fn::Length needs a list, not {items!r}", where)
            return len(items)
        if key == "Fn::ToJsonString":
            # Compact, keys in template order: the documented output is {"key1":"value1",...}
            # [DOC "Fn::ToJsonString"].
            value = self.resolve(arg, where)
            if not isinstance(value, (dict, list)):
                raise TemplateError("Fn::ToJsonString needs an object or a list", where)
            return json.dumps(value, separators=(",", ":"))
        raise TemplateError(f"unsupported intrinsic function {key}", where)

    def _find_in_map(self, arg: Any, where: str) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise TemplateError("Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]", where)
        default = NO_VALUE
        if len(arg) == 4:
            if not isinstance(arg[3], dict) or set(arg[3]) != {"DefaultValue"}:
                raise TemplateError("Fn::FindInMap's fourth argument must be {DefaultValue: ...}", where)
            default = arg[3]["DefaultValue"]
        name, top, second = (self.resolve(a, where) for a in arg[:3])
        found = self._mappings.get(name, {})
        found = found.get(str(top), {}) if isinstance(found, Mapping) else {}
        if isinstance(found, Mapping) and str(second) in found:
            return found[str(second)]
        if default is not NO_VALUE:  # [DOC "Fn::FindInMap", "Default value": used when a key is missing]
            return self.resolve(default, where)
        raise TemplateError(f"Fn::FindInMap: mapping {name!r} has no {top!r} / {second!r}", where)

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
