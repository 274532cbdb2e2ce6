"""Read template.yaml into the model the emulator runs: the WebSocket API, its routes, authorizer and
functions, and the tables the functions use.

The template's transforms run as CloudFormation runs them, in the order declared: AWS::LanguageExtensions
(``language_extensions.py``), then SAM's with aws-sam-translator; then the chain API → Route →
Integration → Function is walked with intrinsics resolved. A CDK-synthesized template
(``cdk.out/<Stack>.template.json``) has its assets' local folders put back first (``cdk.py``). Nothing here
knows wsapp's own handlers: any template with an ``AWS::ApiGatewayV2::Api`` of protocol WEBSOCKET
and Lambda proxy integrations works.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import yaml
from samtranslator.yaml_helper import yaml_parse

from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template import language_extensions
from wsapp.emulator.template.cdk import localize_assets
from wsapp.emulator.template.code import LOCAL_BUCKET, LOCAL_CODE, local_code_roots
from wsapp.emulator.template.model import Account, WebSocketApp
from wsapp.emulator.template.parameters import resolve_parameters, typed
from wsapp.emulator.template.walker import LocalLayer, Walker

# The layer kinds and the property ``sam package`` uploads for each (a local path until then).
_LAYER_CONTENT = {"AWS::Serverless::LayerVersion": "ContentUri", "AWS::Lambda::LayerVersion": "Content"}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:  # managed policy names are irrelevant locally; ARNs pass through
        return {}


def read_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml_parse(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return data


def _replace_local_layers(template: dict[str, Any], base: Path) -> dict[str, LocalLayer]:
    """Layers with local content, as ``sam build``/``sam package`` take them, get placeholder S3
    locations too; the answer maps each placeholder key back to the folder and its BuildMethod.

    (SAM renames a LayerVersion's logical id with a hash and drops its Metadata; the key survives.)
    """
    layers: dict[str, LocalLayer] = {}
    for logical, resource in template["Resources"].items():
        prop = _LAYER_CONTENT.get(resource.get("Type", "")) if isinstance(resource, dict) else None
        props = resource.get("Properties") if prop else None
        if not isinstance(props, dict) or not isinstance(props.get(prop), str):
            continue  # content on S3 (a dict), or missing: the translator and CloudFormation judge it
        uri = props[prop]
        if uri.startswith("s3://"):
            continue
        folder = (base / uri).resolve()
        if not folder.exists():
            raise TemplateError(f"{prop} {uri!r} does not exist ({folder})", logical)
        metadata = resource.get("Metadata")
        method = metadata.get("BuildMethod") if isinstance(metadata, dict) else None
        key = f"layer-{logical}.zip"
        layers[key] = LocalLayer(logical, folder, str(method) if method else None)
        location = f"{LOCAL_CODE}{key}"
        props[prop] = location if prop == "ContentUri" else {"S3Bucket": LOCAL_BUCKET, "S3Key": key}
    return layers


def _offline_session(region: str) -> boto3.session.Session:
    """A session for the translator's region and partition lookups that reads no profile: the user's
    ``AWS_PROFILE`` (even one that is not configured) has nothing to do with translating a template."""
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return boto3.session.Session(region_name=region, botocore_session=core)


def translate(
    template: dict[str, Any], parameters: Mapping[str, str], account: Account, *, isolated: bool = False
) -> dict[str, Any]:
    """The SAM transform, offline. ``isolated`` runs it in a child process, so a long-running gateway
    does not keep the translator (~18 MB) resident for the one moment it is needed."""
    if "AWS::Serverless-2016-10-31" not in str(template.get("Transform", "")):
        return template
    if isolated:
        return _translate_in_child(template, parameters, account)
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values = {**parameters, **_pseudo(account)}
    # The translator records metrics for CloudWatch; unpublished ones make it log a warning whenever the
    # garbage collector gets to it, so "publish" them to the dummy publisher that drops them.
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(None, Parser(), boto_session=_offline_session(account.region), metrics=metrics)
    try:
        return translator.translate(
            template, parameter_values=values, get_managed_policy_map=_NoManagedPolicies().load
        )
    except InvalidDocumentException as exc:
        first = exc.causes[0] if exc.causes else exc
        raise TemplateError(f"SAM translation failed: {first}") from None
    finally:
        metrics.publish()


def translate_file(
    path: str | Path,
    parameters: Mapping[str, str] | None = None,
    *,
    account: Account | None = None,
    dev_secret: str | None = None,
) -> dict[str, Any]:
    """``path`` as plain CloudFormation, as the SAM transform would hand it over (no AWS call).

    Local ``CodeUri`` folders (and layers' ``ContentUri``/``Content``) appear as placeholder
    ``s3://wsapp-local-code/`` URIs.
    """
    account = account or Account()
    template, values, _, _ = _prepare(Path(path).resolve(), parameters, account, dev_secret)
    return translate(template, values, account)


def load_app(
    path: str | Path,
    parameters: Mapping[str, str] | None = None,
    *,
    account: Account | None = None,
    api: str | None = None,
    ids: Callable[[], str] | None = None,
    dev_secret: str | None = None,
    isolated: bool = False,
) -> WebSocketApp:
    """Translate ``path`` and build the model of its WebSocket API (``api`` picks one of several)."""
    account = account or Account()
    if not account.name_suffix:
        account = dataclasses.replace(account, name_suffix=name_suffix(Path(path).resolve()))
    template, values, code_roots, layers = _prepare(Path(path).resolve(), parameters, account, dev_secret)
    cfn = translate(template, values, account, isolated=isolated)
    return Walker(cfn, values, account, code_roots, ids, layers).app(api)


def name_suffix(template: Path) -> str:
    """12 characters in the style of CloudFormation's physical-name suffix, fixed for one template file."""
    return hashlib.sha256(str(template).encode()).hexdigest()[:12].upper()


def _prepare(
    path: Path, parameters: Mapping[str, str] | None, account: Account, dev_secret: str | None
) -> tuple[dict[str, Any], dict[str, str], dict[str, Path], dict[str, LocalLayer]]:
    """The template as SAM's transform gets it, with the parameters' values, each function's code
    folder and the local layers (see :func:`_replace_local_layers`)."""
    template = read_template(path)
    values = resolve_parameters(template.get("Parameters") or {}, parameters or {}, dev_secret=dev_secret)
    if language_extensions.uses(template):
        refs = {**typed(template.get("Parameters") or {}, values), **_pseudo(account)}
        template = language_extensions.expand(template, refs)
    else:
        language_extensions.check_undeclared(template)
    localize_assets(template, path.parent)
    code_roots = local_code_roots(template, path.parent)
    layers = _replace_local_layers(template, path.parent)
    return template, values, code_roots, layers


def _pseudo(account: Account) -> dict[str, str]:
    return {
        "AWS::Region": account.region,
        "AWS::AccountId": account.account_id,
        "AWS::Partition": account.partition,
        "AWS::StackName": account.stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }


def _translate_in_child(
    template: dict[str, Any], parameters: Mapping[str, str], account: Account
) -> dict[str, Any]:
    request = {"template": template, "parameters": dict(parameters), "account": dataclasses.asdict(account)}
    done = subprocess.run(
        [sys.executable, "-m", "wsapp.emulator.template"],
        input=json.dumps(request, default=str),  # an unquoted YAML date (AWSTemplateFormatVersion) is text
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TemplateError(f"SAM translation failed: {last}") from None
    if "error" in answer:
        raise TemplateError(answer["error"])
    return answer["template"]


def _child() -> None:  # run by template/__main__.py
    """``python -m wsapp.emulator.template``: translate the JSON request on stdin, answer on stdout."""
    request = json.load(sys.stdin)
    try:
        result = {
            "template": translate(request["template"], request["parameters"], Account(**request["account"]))
        }
    except TemplateError as exc:
        result = {"error": str(exc)}
    json.dump(result, sys.stdout)
