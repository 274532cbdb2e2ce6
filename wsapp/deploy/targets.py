"""What a template asks to be built, read through the emulator's model of it.

``load_app`` resolves ``CodeUri`` (with Globals), ``Runtime``, ``Architectures`` and ``Layers`` of
every function as ``wsapp local`` runs them; the template itself adds only ``Metadata``
(``BuildMethod``, a layer's ``BuildArchitecture``), which SAM's translation drops. Functions whose
code is inline or already on S3 are not built: they deploy as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wsapp.deploy.build import Builder, BuildSpec, check_handler
from wsapp.deploy.package import Artifact, PackagingError, imports_wsapp
from wsapp.deploy.plan import Built
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.template.loader import load_app, read_template

LOCAL_SECRET = "x" * 64  # NoEcho parameters not given: the code does not depend on them
FUNCTION_KINDS = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# sam build's default for a layer without Metadata.BuildArchitecture [SAM:lib/build/app_builder.py]
DEFAULT_LAYER_ARCHITECTURE = "x86_64"


def build_specs(template: Path, parameters: Mapping[str, str] | None = None) -> list[BuildSpec]:
    """The template's functions with local code and their local layers, in logical-id order."""
    template = Path(template).resolve()
    try:
        raw = read_template(template)
        app = load_app(template, parameters or {}, dev_secret=LOCAL_SECRET)
    except EmulatorError as exc:
        raise PackagingError(str(exc)) from None
    resources: dict[str, Any] = raw["Resources"]
    specs: dict[str, BuildSpec] = {}
    for logical, function in sorted(app.functions.items()):
        resource = resources.get(logical) or {}
        if resource.get("Type") not in FUNCTION_KINDS or not _local_code(resource, raw):
            continue
        specs[logical] = BuildSpec(
            logical_id=logical,
            kind="function",
            source=function.code_root,
            runtime=function.runtime,
            architecture=function.architecture,
            handler=function.handler,
            build_method=_metadata(resource).get("BuildMethod"),
        )
        for layer in function.layers:
            if layer.content is None or layer.logical_id is None or layer.logical_id in specs:
                continue
            metadata = _metadata(resources.get(layer.logical_id) or {})
            specs[layer.logical_id] = BuildSpec(
                logical_id=layer.logical_id,
                kind="layer",
                source=layer.content,
                runtime=str(layer.build_method or ""),
                architecture=str(metadata.get("BuildArchitecture") or DEFAULT_LAYER_ARCHITECTURE),
                build_method=layer.build_method,
            )
    return list(specs.values())


def build_template(
    template: Path, parameters: Mapping[str, str] | None = None, builder: Builder | None = None
) -> dict[str, Built]:
    """Every function and layer of ``template`` built and zipped; logical id → its build.

    Functions whose builds would be the same (one folder, runtime, architecture, wsapp or not) are
    built once; a Makefile target is its function's own.
    """
    builder = builder or Builder()
    done: dict[tuple[object, ...], Artifact] = {}
    built: dict[str, Built] = {}
    for spec in build_specs(template, parameters):
        same: tuple[object, ...] = (
            spec.kind,
            spec.source,
            spec.runtime,
            spec.architecture,
            spec.build_method,
        )
        same += (imports_wsapp(spec.source, spec.handler) if spec.source.is_dir() else False,)
        if spec.build_method == "makefile":
            same += (spec.logical_id,)
        if same not in done:
            builder.say(f"building {spec.logical_id} ({spec.runtime or spec.kind}, {spec.architecture})")
            done[same] = builder.artifact(spec)
        check_handler(spec, done[same])
        built[spec.logical_id] = Built(spec, done[same])
    return built


def _metadata(resource: Mapping[str, Any]) -> dict[str, Any]:
    metadata = resource.get("Metadata")
    return dict(metadata) if isinstance(metadata, dict) else {}


def _local_code(resource: Mapping[str, Any], template: Mapping[str, Any]) -> bool:
    props = resource.get("Properties") or {}
    if resource.get("Type") == "AWS::Lambda::Function":
        return isinstance(props.get("Code"), str) and not props["Code"].startswith("s3://")
    if "InlineCode" in props or props.get("PackageType") == "Image":
        return False
    uri = props.get("CodeUri", ((template.get("Globals") or {}).get("Function") or {}).get("CodeUri", "."))
    return isinstance(uri, str) and not uri.startswith("s3://")
