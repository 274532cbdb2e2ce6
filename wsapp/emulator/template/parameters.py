"""Template parameters: defaults, overrides and CloudFormation's own constraints on their values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wsapp.emulator.errors import TemplateError


def _check(name: str, spec: Mapping[str, Any], value: str) -> None:
    """Apply the constraints CloudFormation checks before it creates anything."""
    where = f"parameter {name}"
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        raise TemplateError(f"value must be one of {spec['AllowedValues']}", where)
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        shown = "(hidden)" if spec.get("NoEcho") else repr(value)
        raise TemplateError(f"value {shown} does not match {spec['AllowedPattern']}", where)
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise TemplateError(f"value is shorter than MinLength {spec['MinLength']}", where)
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise TemplateError(f"value is longer than MaxLength {spec['MaxLength']}", where)
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"value {value!r} is not a number", where) from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"value is below MinValue {spec['MinValue']}", where)
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"value is above MaxValue {spec['MaxValue']}", where)


def resolve_parameters(
    declared: Mapping[str, Mapping[str, Any]],
    overrides: Mapping[str, str],
    *,
    dev_secret: str | None = None,
) -> dict[str, str]:
    """Each declared parameter's value: override, else Default, else (NoEcho only) ``dev_secret``."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameter {unknown[0]!r}; the template declares {sorted(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = str(spec["Default"])
        elif spec.get("NoEcho") and dev_secret is not None:
            value = dev_secret  # a local-only stand-in for a secret the deployer supplies on AWS
        else:
            raise TemplateError(f"has no value: pass --parameter {name}=VALUE", f"parameter {name}")
        _check(name, spec, value)
        values[name] = value
    return values
