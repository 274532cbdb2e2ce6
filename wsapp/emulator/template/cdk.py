"""Templates the AWS CDK synthesizes (``cdk.out/<Stack>.template.json``), read as ``sam local`` reads them.

CDK points each function's ``Code`` (each layer's ``Content``) at the S3 object its asset will be
uploaded to, and says in the resource's ``Metadata`` which local folder that object is made from:
``aws:asset:path`` (relative to the template's folder, ``asset.<hash>``) and ``aws:asset:property``
(the property it replaces). SAM CLI swaps the property for the path before anything else
(``samcli/lib/samlib/resource_metadata_normalizer.py``); so does this module, after which the
template's functions and layers have local code as any other template's.

The rest of a synthesized template needs nothing of its own: the ``BootstrapVersion`` parameter (an
``AWS::SSM::Parameter::Value<String>``) resolves offline in ``parameters.py``, the ``Rules`` section
(CDK's ``CheckBootstrapVersion``) is not evaluated, and ``AWS::CDK::Metadata``, IAM roles, policies and
``AWS::Lambda::Permission`` resources are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsapp.emulator.errors import TemplateError

ASSET_PATH = "aws:asset:path"
ASSET_PROPERTY = "aws:asset:property"
IMAGE_PROPERTY = "Code.ImageUri"  # a Docker image asset: nothing the emulator can run


def localize_assets(template: dict[str, Any], base: Path) -> None:
    """Replace each asset-backed property in ``template`` by its asset's local path (in place)."""
    for logical, resource in (template.get("Resources") or {}).items():
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        if not isinstance(metadata, dict):
            continue
        path, prop = metadata.get(ASSET_PATH), metadata.get(ASSET_PROPERTY)
        if not isinstance(path, str) or not isinstance(prop, str) or prop == IMAGE_PROPERTY:
            continue
        if not (base / path).exists():
            raise TemplateError(
                f"{ASSET_PATH} {path!r} is not in {base} (run `cdk synth` again to write its assets)", logical
            )
        props = resource.setdefault("Properties", {})
        *parents, last = prop.split(".")
        for key in parents:
            props = props.setdefault(key, {})
        props[last] = path
