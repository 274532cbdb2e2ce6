"""A template's Lambda functions as the model holds them, with what the Invoke API's ``Qualifier`` names.

Every ``AWS::Lambda::Function`` becomes a :class:`FunctionSpec`, reached from a route or not (a worker
that another function invokes through the Lambda API). ``AWS::Lambda::Version`` resources (SAM's
``AutoPublishAlias`` makes one) are numbered 1, 2, … per function in template order, as Lambda numbers
published versions; ``AWS::Lambda::Alias`` resources name a version; ``AWS::Lambda::EventInvokeConfig``
sets a qualifier's async retry limits. Their ``Ref`` is their ARN, the function's ARN with the
qualifier appended [CloudFormation "Return values" of AWS::Lambda::Version and ::Alias].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template.intrinsics import NO_VALUE
from wsapp.emulator.template.model import AsyncConfig, FunctionSpec, LayerSpec

VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
DEFAULT_LAMBDA_TIMEOUT = 3  # CloudFormation's default Timeout for AWS::Lambda::Function
DEFAULT_LAMBDA_MEMORY = 128
READ = (
    "Handler",
    "Runtime",
    "Timeout",
    "MemorySize",
    "Environment",
    "ReservedConcurrentExecutions",
    "Layers",
    "Architectures",
)


def function_name_of(value: Any) -> str:
    """The bare name in a ``FunctionName`` property: a name, an ARN or a partial ARN, maybe qualified."""
    text = str(value)
    if "function:" in text:
        text = text.split("function:", 1)[1]
    return text.split(":", 1)[0]


def qualifier_arns(
    resources: Mapping[str, Any],
    names: Mapping[str, str],
    arns: Mapping[str, str],
    resolve: Callable[[Any, str], Any],
) -> dict[str, tuple[str, str]]:
    """Each Version's and Alias's function (logical id) and physical id, its ARN.

    ``names``/``arns``: physical name and ARN of each function; ``resolve`` resolves a property value.
    """
    by_name = {name: logical for logical, name in names.items()}
    found: dict[str, tuple[str, str]] = {}
    numbers: dict[str, int] = {}
    for logical, resource in resources.items():
        kind = resource.get("Type")
        if kind not in (VERSION, ALIAS):
            continue
        props = resource.get("Properties") or {}
        try:
            function = by_name.get(function_name_of(resolve(props.get("FunctionName"), logical)))
            name = None if kind == VERSION or function is None else str(resolve(props.get("Name"), logical))
        except TemplateError:
            continue  # named through an attribute the emulator cannot give: not one of its functions
        if function is None:
            continue  # another stack's function: nothing the emulator runs
        if kind == VERSION:
            numbers[function] = numbers.get(function, 0) + 1
            qualifier = str(numbers[function])
        else:
            qualifier = str(name)
        found[logical] = (function, f"{arns[function]}:{qualifier}")
    return found


def build(
    logical: str,
    props: Mapping[str, Any],
    *,
    name: str,
    arn: str,
    code_root: Path | None,
    layers: tuple[LayerSpec, ...] = (),
    versions: tuple[str, ...] = (),
    aliases: Mapping[str, str] | None = None,
    async_configs: Mapping[str, AsyncConfig] | None = None,
) -> FunctionSpec:
    """The function ``logical`` from its resolved properties."""
    handler = props.get("Handler")
    runtime = str(props.get("Runtime", ""))
    # module.function is Python's and Node.js's form; a custom runtime's bootstrap reads _HANDLER as it
    # likes, and an unsupported runtime is refused by name when its environment starts.
    if runtime.startswith(("python", "nodejs")) and (not isinstance(handler, str) or "." not in handler):
        raise TemplateError(f"Handler {handler!r} is not of the form module.function", logical)
    if code_root is None:
        raise TemplateError(
            "has no local code (its Code is on S3 or an image: give CodeUri or a local Code path)", logical
        )
    variables = (props.get("Environment") or {}).get("Variables") or {}
    return FunctionSpec(
        logical_id=logical,
        name=name,
        handler="" if handler is None else str(handler),
        code_root=code_root,
        runtime=runtime,
        timeout=float(props.get("Timeout", DEFAULT_LAMBDA_TIMEOUT)),
        memory=int(props.get("MemorySize", DEFAULT_LAMBDA_MEMORY)),
        environment={k: str(v) for k, v in variables.items() if v is not NO_VALUE},
        arn=arn,
        reserved_concurrency=_optional_int(props.get("ReservedConcurrentExecutions")),
        layers=layers,
        architecture=str((props.get("Architectures") or ["x86_64"])[0]),
        versions=versions,
        aliases=dict(aliases or {}),
        async_configs=dict(async_configs or {}),
    )


def async_config(props: Mapping[str, Any], where: str) -> tuple[str, AsyncConfig]:
    """An EventInvokeConfig's qualifier and limits, checked against the API's ranges [DOC
    API_PutFunctionEventInvokeConfig: MaximumRetryAttempts 0-2, MaximumEventAgeInSeconds 60-21600]."""
    retries = _optional_int(props.get("MaximumRetryAttempts"))
    age = _optional_int(props.get("MaximumEventAgeInSeconds"))
    if retries is not None and not 0 <= retries <= 2:
        raise TemplateError(f"MaximumRetryAttempts {retries} is not between 0 and 2", where)
    if age is not None and not 60 <= age <= 21600:
        raise TemplateError(f"MaximumEventAgeInSeconds {age} is not between 60 and 21600", where)
    return str(props.get("Qualifier") or "$LATEST"), AsyncConfig(retries, age)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
