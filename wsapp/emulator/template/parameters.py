"""Template parameters: defaults, overrides and CloudFormation's own constraints on their values.

``AWS::SSM::Parameter::Value<...>`` parameters hold the *name* of a Parameter Store entry, which
CloudFormation reads at deploy time [DOC "Parameters", "SSM parameter types"]. Offline there is no
Parameter Store: an override gives such a parameter's value directly, and a default resolves only when
the name is one the emulator knows (:data:`LOCAL_SSM`), such as the version of the CDK bootstrap stack
that every CDK-synthesized template reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wsapp.emulator.errors import TemplateError

SSM_TYPE = "AWS::SSM::Parameter::Value<"
# UNCONFIRMED (a knob): the bootstrap version a local "account" has. Any version from 6 up passes the
# CheckBootstrapVersion rule CDK v2 adds to its templates (which the emulator does not evaluate anyway).
CDK_BOOTSTRAP_VERSION = "30"
# Parameter Store names resolved offline: pattern -> value.
LOCAL_SSM = {r"/cdk-bootstrap/[^/]+/version": CDK_BOOTSTRAP_VERSION}


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
        elif str(spec.get("Type", "")).startswith(SSM_TYPE) and "Default" in spec:
            values[name] = _local_ssm(name, str(spec["Default"]))
            continue  # the constraints apply to the Parameter Store name, which is fixed
        elif "Default" in spec:
            value = str(spec["Default"])
        elif spec.get("NoEcho") and dev_secret is not None:
            value = dev_secret  # a local-only stand-in for a secret the deployer supplies on AWS
        else:
            raise TemplateError(f"has no value: pass --parameter {name}=VALUE", f"parameter {name}")
        _check(name, spec, value)
        values[name] = value
    return values


def _local_ssm(name: str, entry: str) -> str:
    for pattern, value in LOCAL_SSM.items():
        if re.fullmatch(pattern, entry):
            return value
    raise TemplateError(
        f"reads Parameter Store entry {entry!r} at deploy time, which cannot be read offline: pass"
        f" --parameter {name}=VALUE with its value",
        f"parameter {name}",
    )


def typed(declared: Mapping[str, Mapping[str, Any]], values: Mapping[str, str]) -> dict[str, Any]:
    """What ``Ref`` gives for each parameter: a list for the list types (``CommaDelimitedList``,
    ``List<...>``), whose members CloudFormation space-trims [DOC "Parameters", "CommaDelimitedList"];
    the text otherwise."""
    out: dict[str, Any] = dict(values)
    for name, spec in declared.items():
        kind = str(spec.get("Type", "")) if isinstance(spec, Mapping) else ""
        if name in values and ("CommaDelimitedList" in kind or "List<" in kind):
            out[name] = [item.strip() for item in values[name].split(",")]
    return out
