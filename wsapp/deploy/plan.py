"""The deploy plan: everything ``wsapp deploy`` will send, worked out without any AWS call.

:func:`make_plan` reads ``template.yaml``, checks the parameters against it, points every function's
code at the artifact's S3 key and translates the SAM template offline with aws-sam-translator, so
``--dry-run`` lists the real CloudFormation resources. NoEcho parameters are masked in every display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wsapp.deploy.package import Artifact

MASK = "****"
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
class DeployPlan:
    stack_name: str
    region: str
    template: dict[str, Any]  # template.yaml as loaded; template_body() points its code at the artifact
    parameters: dict[str, str]  # as given; parameters not given keep their previous or default value
    no_echo: frozenset[str]
    artifact: Artifact
    bucket: str | None  # None: the account's default wsapp bucket, found or created by apply
    resources: dict[str, str] = field(default_factory=dict)  # logical id → type, after the transform

    def template_body(self, bucket: str) -> str:
        """What CloudFormation receives: still SAM, every function's code in ``bucket``."""
        return json.dumps(with_artifact(self.template, bucket, self.artifact.key), indent=1, sort_keys=True)

    def shown_parameters(self) -> dict[str, str]:
        """The parameters safe to print: NoEcho values masked."""
        return {k: (MASK if k in self.no_echo else v) for k, v in sorted(self.parameters.items())}

    def describe(self) -> str:
        lines = [
            f"stack      {self.stack_name} ({self.region})",
            f"artifact   sha256 {self.artifact.sha256} ({self.artifact.files} files, "
            f"{len(self.artifact.data) / 1e6:.1f} MB)",
            f"upload     s3://{self.bucket or '<default wsapp bucket>'}/{self.artifact.key}",
            "parameters",
        ]
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


def with_artifact(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """A copy of ``template`` whose functions all run the uploaded artifact."""
    out = json.loads(json.dumps(template))
    code = {"Bucket": bucket, "Key": key}
    out.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for resource in out["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = code
            resource.pop("Metadata", None)  # the makefile BuildMethod is for `sam build` only
    return out


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


def make_plan(
    template_path: Path,
    stack_name: str,
    parameters: dict[str, str],
    artifact: Artifact,
    *,
    region: str,
    bucket: str | None = None,
) -> DeployPlan:
    source = load_template(template_path)
    declared = source.get("Parameters", {})
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise PlanError(
            f"unknown parameter {', '.join(unknown)}; the template declares {', '.join(declared)}"
        )
    placeholders = {k: "x" * int(v.get("MinLength", 1)) for k, v in declared.items()}
    resources = translate(
        with_artifact(source, bucket or "bucket", artifact.key), {**placeholders, **parameters}, region
    )
    return DeployPlan(
        stack_name=stack_name,
        region=region,
        template=source,
        parameters=dict(parameters),
        no_echo=frozenset(k for k, v in declared.items() if str(v.get("NoEcho", "")).lower() == "true"),
        artifact=artifact,
        bucket=bucket,
        resources=resources,
    )
