"""Where each function's code is on this machine, as ``sam build`` / ``sam local`` find it.

- ``AWS::Serverless::Function``: ``CodeUri`` (or the Globals one), a folder relative to the template;
  when neither is set, the template's own folder (SAM CLI's default CodeUri is ``.``:
  ``samcli/lib/providers/sam_function_provider.py``, ``DEFAULT_CODEURI``).
- ``AWS::Lambda::Function``: ``Code`` as a local path (what ``aws cloudformation package`` uploads).
- Inline code (SAM ``InlineCode``, CloudFormation ``Code.ZipFile``): CloudFormation "places it in a file
  named index" (AWS::Lambda::Function Code docs) with the runtime's extension; locally that file is
  written under ``.wsapp/inline/<LogicalId>/`` beside the template, rewritten only when it changes.

Local paths are swapped for placeholder S3 locations, which is what the SAM translator and
CloudFormation want there; the answer maps each function's logical id to its folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsapp.emulator.errors import TemplateError

LOCAL_BUCKET = "wsapp-local-code"
LOCAL_CODE = f"s3://{LOCAL_BUCKET}/"  # stands in for a local CodeUri during translation
INLINE_FOLDER = Path(".wsapp") / "inline"


def local_code_roots(template: dict[str, Any], base: Path) -> dict[str, Path]:
    """Swap local code locations for placeholders in ``template``; ``{logical id: code folder}``."""
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    global_uri = function_globals.get("CodeUri")
    roots: dict[str, Path] = {}
    for logical, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        props = resource.setdefault("Properties", {}) if kind in _KINDS else None
        if not isinstance(props, dict):
            continue
        runtime = props.get("Runtime", function_globals.get("Runtime"))
        if kind == "AWS::Serverless::Function":
            root = _serverless(logical, props, global_uri, runtime, base)
        else:
            root = _plain(logical, props, runtime, base)
        if root is not None:
            roots[logical] = root
    if isinstance(global_uri, str) and not global_uri.startswith("s3://"):
        function_globals["CodeUri"] = f"{LOCAL_CODE}globals.zip"
    return roots


def _serverless(logical: str, props: dict[str, Any], global_uri: Any, runtime: Any, base: Path) -> Path:
    if "InlineCode" in props:
        return _inline(logical, props["InlineCode"], runtime, base)  # the translator takes it as it is
    uri = props.get("CodeUri", global_uri if global_uri is not None else ".")
    if isinstance(uri, dict) or (isinstance(uri, str) and uri.startswith("s3://")):
        raise TemplateError("CodeUri is on S3; it must be a local folder to run locally", logical)
    if not isinstance(uri, str):
        raise TemplateError(f"CodeUri {uri!r} is not a local folder", logical)
    props["CodeUri"] = f"{LOCAL_CODE}{logical}.zip"
    return (base / uri).resolve()


def _plain(logical: str, props: dict[str, Any], runtime: Any, base: Path) -> Path | None:
    code = props.get("Code")
    if isinstance(code, str) and not code.startswith("s3://"):
        props["Code"] = {"S3Bucket": LOCAL_BUCKET, "S3Key": f"{logical}.zip"}
        return (base / code).resolve()
    if isinstance(code, dict) and isinstance(code.get("ZipFile"), str):
        return _inline(logical, code["ZipFile"], runtime, base)
    return None  # on S3 or an image: the walker says it has no local code if a route needs it


def _inline(logical: str, source: Any, runtime: Any, base: Path) -> Path:
    if not isinstance(source, str):
        raise TemplateError("inline code must be text (an intrinsic there is not supported locally)", logical)
    extension = _EXTENSIONS.get(str(runtime or "").rstrip("0123456789.x"))
    if extension is None:
        raise TemplateError(f"inline code needs a Python or Node.js Runtime, not {runtime!r}", logical)
    folder = (base / INLINE_FOLDER / logical).resolve()
    target = folder / f"index{extension}"
    try:
        if not target.is_file() or target.read_text() != source:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(source)
    except OSError as exc:
        raise TemplateError(f"cannot write its inline code to {target}: {exc.strerror}", logical) from None
    return folder


_KINDS = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_EXTENSIONS = {"python": ".py", "nodejs": ".js"}
