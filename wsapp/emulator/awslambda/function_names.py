"""Which function, and which version of it, an Invoke request names.

``FunctionName`` is a name, a full ARN or a partial ARN (``123456789012:function:name``), any of them
optionally ending in ``:qualifier``; the ``Qualifier`` query parameter may say it instead (both and
different is an error). A qualifier is ``$LATEST``, a version the template publishes or one of its
aliases; anything else is not found [DOC API_Invoke; botocore ``lambda`` model patterns].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from wsapp.emulator.awslambda import api_errors
from wsapp.emulator.template.model import Account, FunctionSpec

# The model's NamespacedFunctionName and NumericLatestPublishedOrAliasQualifier patterns, with groups
# named (tests/awslambda/test_invoke_api.py checks they accept what the model's accept).
FUNCTION_NAME = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?"
)
QUALIFIER = re.compile(r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9_$-]+")
_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)


@dataclass(frozen=True)
class Target:
    """The function an Invoke request names, as Lambda resolves it."""

    spec: FunctionSpec
    qualifier: str | None  # as named: $LATEST, a version number, an alias; None when unqualified
    version: str  # X-Amz-Executed-Version: $LATEST or the version an alias points at
    arn: str  # the invoked ARN the runtime is told: qualified only when the caller qualified it

    @property
    def config_key(self) -> str:
        """The qualifier whose EventInvokeConfig applies (unqualified is ``$LATEST``)."""
        return self.qualifier or "$LATEST"


def resolve(
    function_name: str, qualifier: str | None, functions: Mapping[str, FunctionSpec], account: Account
) -> Target:
    if not 1 <= len(function_name) <= 256 or not (match := FUNCTION_NAME.fullmatch(function_name)):
        raise api_errors.validation(
            function_name, "functionName", f"Member must satisfy regular expression pattern: {_PATTERN_TEXT}"
        )
    if qualifier is not None and (not 1 <= len(qualifier) <= 128 or not QUALIFIER.fullmatch(qualifier)):
        raise api_errors.validation(
            qualifier, "qualifier", f"Member must satisfy regular expression pattern: {QUALIFIER.pattern}"
        )
    named = match["qualifier"]
    if named is not None and qualifier is not None and named != qualifier:
        raise api_errors.qualifier_conflict()
    qualifier = named if named is not None else qualifier
    partition = match["partition"] or account.partition
    region = match["region"] or account.region
    account_id = match["account"] or account.account_id
    wanted = f"arn:{partition}:lambda:{region}:{account_id}:function:{match['name']}"
    missing = api_errors.not_found(f"{wanted}:{qualifier or '$LATEST'}")
    spec = next((s for s in functions.values() if s.arn == wanted), None)
    if spec is None:
        raise missing  # another name, region, account or partition: none of this template's functions
    if qualifier is None:
        return Target(spec, None, "$LATEST", spec.arn)
    if qualifier == "$LATEST" or qualifier in spec.versions:
        return Target(spec, qualifier, qualifier, f"{spec.arn}:{qualifier}")
    if qualifier in spec.aliases:
        return Target(spec, qualifier, spec.aliases[qualifier], f"{spec.arn}:{qualifier}")
    raise missing
