"""The deploy plan: everything ``wsapp deploy`` will send, worked out without any AWS call.

:func:`make_plan` reads ``template.yaml``, checks the parameters against it, points each function's
(and layer's) code at its artifact's S3 key and translates the SAM template offline with
aws-sam-translator, so ``--dry-run`` lists the real CloudFormation resources and which functions
SnapStart would snapshot. NoEcho parameters are masked in every display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wsapp.deploy.build import BuildSpec
from wsapp.deploy.package import Artifact

MASK = "****"
# Where each kind keeps its code, and how an S3 location is written there.
CODE_PROPERTY = {
    "AWS::Serverless::Function": ("CodeUri", "Bucket", "Key"),
    "AWS::Lambda::Function": ("Code", "S3Bucket", "S3Key"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "Bucket", "Key"),
    "AWS::Lambda::LayerVersion": ("Content", "S3Bucket", "S3Key"),
}
BUILD_METADATA = ("BuildMethod", "BuildArchitecture", "BuildProperties")  # for the build only
INTRINSIC_LISTS = {"GetAtt"}  # `!GetAtt A.B` is ["A", "B"] in the long form


class PlanError(Exception):
    """The template or the parameters do not make a valid deployment."""


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (``!Ref X`` → ``{"Ref": "X"}``, ``!Sub`` → ``Fn::Sub``)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix in INTRINSIC_LISTS:
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    try:
        template = yaml.load(path.read_text(), Loader=_CfnLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"cannot read {path}: {exc}") from None
    if not isinstance(template, dict) or "Resources" not in template:
        raise PlanError(f"{path} is not a CloudFormation template")
    return template


@dataclass(frozen=True)
class Built:
    """One function's or layer's code: what was built and the zip it became."""

    spec: BuildSpec
    artifact: Artifact


@dataclass(frozen=True)
class DeployPlan:
    stack_name: str
    region: str
    template: dict[str, Any]  # template.yaml as loaded; template_body() points its code at the artifacts
    parameters: dict[str, str]  # as given; parameters not given keep their previous or default value
    no_echo: frozenset[str]
    built: dict[str, Built]  # logical id → its build
    bucket: str | None  # None: the account's default wsapp bucket, found or created by apply
    resources: dict[str, str] = field(default_factory=dict)  # logical id → type, after the transform
    snap_start: dict[str, str] = field(default_factory=dict)  # function → the alias SnapStart serves

    @property
    def artifacts(self) -> dict[str, Artifact]:
        """The distinct artifacts by S3 key (two functions built alike share one)."""
        return {b.artifact.key: b.artifact for b in self.built.values()}

    def template_body(self, bucket: str) -> str:
        """What CloudFormation receives: still SAM, every built function's code in ``bucket``."""
        keys = {logical: b.artifact.key for logical, b in self.built.items()}
        return json.dumps(with_artifacts(self.template, bucket, keys), indent=1, sort_keys=True)

    def shown_parameters(self) -> dict[str, str]:
        """The parameters safe to print: NoEcho values masked."""
        return {k: (MASK if k in self.no_echo else v) for k, v in sorted(self.parameters.items())}

    def describe(self) -> str:
        lines = [f"stack      {self.stack_name} ({self.region})", "artifacts"]
        for logical, b in sorted(self.built.items()):
            size = len(b.artifact.data) / 1e6
            lines.append(
                f"  {logical:<26} {b.spec.runtime or b.spec.kind:<11} {b.spec.architecture:<7} "
                f"sha256 {b.artifact.sha256} ({b.artifact.files} files, {size:.1f} MB)"
            )
        for key in sorted(self.artifacts):
            lines.append(f"  upload s3://{self.bucket or '<default wsapp bucket>'}/{key}")
        if self.snap_start:
            names = ", ".join(f"{f} (alias {a})" for f, a in sorted(self.snap_start.items()))
            lines.append(f"snapstart  on published versions: {names}")
        else:
            lines.append("snapstart  off")
        lines.append("parameters")
        declared = self.template.get("Parameters", {})
        shown = self.shown_parameters()
        for name in sorted(declared):
            if name in shown:
                lines.append(f"  {name} = {shown[name]}")
            elif "Default" in declared[name]:
                lines.append(f"  {name} = {declared[name]['Default']} (default)")
            else:
                lines.append(f"  {name}: not given (previous value on update; required to create)")
        lines.append(f"resources ({len(self.resources)}, after the SAM transform)")
        lines += [f"  {rid:<34} {rtype}" for rid, rtype in sorted(self.resources.items())]
        return "\n".join(lines)


def with_artifacts(template: dict[str, Any], bucket: str, keys: dict[str, str]) -> dict[str, Any]:
    """A copy of ``template`` whose built functions and layers run their uploaded artifacts."""
    out = json.loads(json.dumps(template))
    function_globals = out.get("Globals", {}).get("Function", {})
    uri = function_globals.get("CodeUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):
        function_globals.pop("CodeUri")  # a local folder: each built function gets its own key below
    for logical, resource in out["Resources"].items():
        where = CODE_PROPERTY.get(resource.get("Type", ""))
        if where is None or logical not in keys:
            continue
        prop, bucket_key, key_key = where
        resource.setdefault("Properties", {})[prop] = {bucket_key: bucket, key_key: keys[logical]}
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            for name in BUILD_METADATA:
                metadata.pop(name, None)
            if not metadata:
                resource.pop("Metadata")
    return out


def snap_start(template: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    """Function → alias, for the functions SnapStart snapshots (``ApplyOn: PublishedVersions``).

    Lambda applies SnapStart to published versions only, so it takes effect where callers invoke a
    version or an alias of one; SAM's ``AutoPublishAlias`` publishes one and names the alias.
    """
    from wsapp.emulator.errors import TemplateError
    from wsapp.emulator.template.intrinsics import Resolver

    def no_attributes(logical: str, attr: str, where: str) -> Any:
        raise TemplateError(f"{logical}.{attr} is not known before deployment", where)

    resolver = Resolver(values, no_attributes, template.get("Conditions"))
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    found: dict[str, str] = {}
    for logical, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**function_globals, **(resource.get("Properties") or {})}
        try:
            apply_on = resolver.resolve(props.get("SnapStart") or {}, logical).get("ApplyOn")
            alias = resolver.resolve(props.get("AutoPublishAlias"), logical)
        except TemplateError as exc:
            raise PlanError(str(exc)) from None
        if apply_on == "PublishedVersions":
            found[logical] = str(alias) if alias else "none: no version is invoked"
    return found


def translate(template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, str]:
    """Logical id → resource type after the SAM transform, computed offline."""
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # A session only names the region here; the translator makes no AWS call with it. Its metrics are
    # "published" to a publisher that drops them, else it warns when the garbage collector gets to them.
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    values = {"AWS::Region": region, "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    values.update(parameters)
    try:
        # No managed policy names in the template, so the IAM lookup the translator may ask for is empty.
        output = translator.translate(json.loads(json.dumps(template)), values, get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        raise PlanError("; ".join(str(e) for e in exc.causes)) from None
    finally:
        metrics.publish()
    return {rid: res["Type"] for rid, res in output["Resources"].items()}


def checked_template(template_path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    """The template, if it declares every parameter given."""
    source = load_template(template_path)
    declared = source.get("Parameters", {})
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise PlanError(
            f"unknown parameter {', '.join(unknown)}; the template declares {', '.join(declared)}"
        )
    return source


def make_plan(
    template_path: Path,
    stack_name: str,
    parameters: dict[str, str],
    built: dict[str, Built],
    *,
    region: str,
    bucket: str | None = None,
) -> DeployPlan:
    source = checked_template(template_path, parameters)
    declared = source.get("Parameters", {})
    placeholders = {k: "x" * int(v.get("MinLength", 1)) for k, v in declared.items()}
    defaults = {k: str(v["Default"]) for k, v in declared.items() if "Default" in v}
    keys = {logical: b.artifact.key for logical, b in built.items()}
    resources = translate(
        with_artifacts(source, bucket or "bucket", keys), {**placeholders, **parameters}, region
    )
    return DeployPlan(
        stack_name=stack_name,
        region=region,
        template=source,
        parameters=dict(parameters),
        no_echo=frozenset(k for k, v in declared.items() if str(v.get("NoEcho", "")).lower() == "true"),
        built=dict(built),
        bucket=bucket,
        resources=resources,
        snap_start=snap_start(source, {**placeholders, **defaults, **parameters}),
    )
