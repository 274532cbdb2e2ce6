"""Build each function's (and layer's) code as ``sam build`` does, with the library it uses.

What to build comes from the template, through the emulator's model (``load_app``): each function's
code folder (``CodeUri``), ``Runtime``, ``Architectures`` and its layers, and ``Metadata.BuildMethod``.
aws-lambda-builders (``sam build``'s builder) then does the work:

* **Python** (no BuildMethod, or ``python3.x``): the folder's ``requirements.txt`` resolved by pip for
  the runtime and architecture (manylinux wheels of the target platform, compiled ones included),
  beside a copy of the folder. When the code imports wsapp, wsapp's runtime modules go in too, and its
  runtime dependencies join the requirements. A layer's build goes under ``python/``.
* **makefile**: the folder's ``Makefile`` target ``build-<LogicalId>`` with ``ARTIFACTS_DIR``, in the
  folder itself (``sam build --build-in-source``), with ``PYTHON`` set to this interpreter and
  ``RUNTIME``/``ARCHITECTURE`` to the template's values.
* anything else with nothing to install (``provided.al2023`` with a ``bootstrap``): the folder as is.

Resolved dependencies are cached per requirements, runtime and architecture (aws-lambda-builders'
``dependencies_dir``, as ``sam build --cached``), under ``~/.cache/wsapp/lambda-deps``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wsapp.deploy import depcache
from wsapp.deploy.interpreters import search_paths
from wsapp.deploy.makefile import run_target
from wsapp.deploy.package import (
    Artifact,
    PackagingError,
    copy_sources,
    imports_wsapp,
    wsapp_requirements,
    zip_folder,
)

Say = Callable[[str], None]
PYTHON_METHODS = ("python3.",)


@dataclass(frozen=True)
class BuildSpec:
    """One thing to build: a function's code or a layer's content, as the template declares it."""

    logical_id: str
    kind: str  # "function" or "layer"
    source: Path
    runtime: str
    architecture: str  # "x86_64" or "arm64"
    handler: str | None = None
    build_method: str | None = None  # Metadata.BuildMethod


class Builder:
    def __init__(self, cache: Path | None = None, say: Say | None = None) -> None:
        self.cache = Path(cache or depcache.default_cache())
        self.say = say or (lambda _line: None)

    def artifact(self, spec: BuildSpec) -> Artifact:
        """Build ``spec`` in a temporary folder and zip it (a layer's ``.zip`` is taken as it is)."""
        if spec.source.is_file():
            data = spec.source.read_bytes()
            return Artifact(data=data, sha256=hashlib.sha256(data).hexdigest(), files=0)
        with tempfile.TemporaryDirectory(prefix=f"wsapp-build-{spec.logical_id}-") as scratch:
            out = Path(scratch) / "artifact"
            out.mkdir()
            self.build(spec, out)
            return zip_folder(out)

    def build(self, spec: BuildSpec, out: Path) -> None:
        method = spec.build_method
        if method == "makefile":
            run_target(spec, out)
        elif spec.kind == "layer" and method is None:  # sam build uploads such a layer's folder as it is
            _copy(spec.source, out)
        elif (method or spec.runtime).startswith(PYTHON_METHODS):
            runtime = method if method and spec.kind == "layer" else spec.runtime
            self.python(
                spec.source,
                out / "python" if spec.kind == "layer" else out,
                runtime,
                spec.architecture,
                handler=spec.handler,
                owner=spec.logical_id,
            )
        elif method is None and not (spec.source / "package.json").is_file():
            _copy(spec.source, out)
        else:
            raise PackagingError(
                f"{spec.logical_id}: wsapp deploy builds Python code and makefile targets, not "
                f"{method or spec.runtime} with a package.json; use sam build for it"
            )

    def python(
        self,
        source: Path,
        out: Path,
        runtime: str,
        architecture: str,
        *,
        handler: str | None = None,
        owner: str = "the function",
        with_wsapp: bool | None = None,
    ) -> None:
        """``source`` with its requirements.txt resolved for ``runtime`` on ``architecture``, into ``out``."""
        from aws_lambda_builders.builder import LambdaBuilder
        from aws_lambda_builders.exceptions import LambdaBuilderError

        needs_wsapp = imports_wsapp(source, handler) if with_wsapp is None else with_wsapp
        requirements = source / "requirements.txt"
        lines = [f"-r {requirements.resolve()}"] if _lists_packages(requirements) else []
        if needs_wsapp:
            lines += wsapp_requirements()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="wsapp-pip-") as scratch:
            manifest = Path(scratch) / "requirements.txt"
            kwargs: dict[str, object] = {}
            if lines:
                manifest.write_text("\n".join(lines) + "\n")
                key = depcache.key(
                    "\n".join(lines),
                    requirements.read_bytes() if lines[0].startswith("-r") else b"",
                    runtime,
                    architecture,
                )
                kwargs = {"dependencies_dir": str(self.cache / key), "combine_dependencies": True}
            try:
                with depcache.Entry(Path(str(kwargs["dependencies_dir"])) if kwargs else None) as download:
                    if download:
                        self.say(f"{owner}: resolving requirements for {runtime} {architecture}")
                    LambdaBuilder(
                        language="python", dependency_manager="pip", application_framework=None
                    ).build(
                        str(source),
                        str(out),
                        str(Path(scratch) / "work"),
                        str(manifest),
                        runtime=runtime,
                        architecture=architecture,
                        download_dependencies=download,
                        executable_search_paths=search_paths(runtime),
                        **kwargs,
                    )
            except LambdaBuilderError as exc:
                raise PackagingError(f"{owner}: {_first_line(exc)}") from None
        if needs_wsapp:
            copy_sources(out)


def _copy(source: Path, out: Path) -> None:
    shutil.copytree(source, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", ".aws-sam"))


def check_handler(spec: BuildSpec, artifact: Artifact) -> None:
    """The handler's module is in the artifact: on Lambda it would be a Runtime.ImportModuleError."""
    if spec.kind != "function" or not spec.handler or not spec.runtime.startswith("python"):
        return
    module = spec.handler.rsplit(".", 1)[0]
    path = module.replace(".", "/")
    if not {f"{path}.py", f"{path}/__init__.py"} & set(zipfile.ZipFile(io.BytesIO(artifact.data)).namelist()):
        raise PackagingError(
            f"{spec.logical_id}: the built code has no module {module} for Handler {spec.handler}"
        )


def _lists_packages(requirements: Path) -> bool:
    """requirements.txt names at least one package (comments and blank lines only: nothing to install)."""
    if not requirements.is_file():
        return False
    return any(
        line.strip() and not line.strip().startswith("#") for line in requirements.read_text().splitlines()
    )


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:400] or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """``python -m wsapp.deploy.build``: a Makefile's build step (``sam build`` runs it, and so does
    ``wsapp deploy`` for a function with ``BuildMethod: makefile``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m wsapp.deploy.build", description=main.__doc__)
    parser.add_argument("artifacts_dir", type=Path, help="where the built code goes ($(ARTIFACTS_DIR))")
    parser.add_argument(
        "--source", type=Path, help="the code folder, with its requirements.txt (default: none)"
    )
    parser.add_argument("--runtime", default="python3.12")
    parser.add_argument("--architecture", default="x86_64", choices=("x86_64", "arm64"))
    parser.add_argument("--with-wsapp", action="store_true", help="add wsapp even if no module imports it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wsapp-nosource-") as empty:
        source = args.source or Path(empty)
        try:
            Builder(say=lambda line: print(line, file=sys.stderr)).python(
                source.resolve(),
                args.artifacts_dir.resolve(),
                args.runtime,
                args.architecture,
                with_wsapp=True if args.with_wsapp else None,
            )
        except PackagingError as exc:
            print(f"wsapp build: {exc}", file=sys.stderr)
            return 2
    return 0


logging.getLogger("aws_lambda_builders").setLevel(logging.WARNING)

if __name__ == "__main__":
    sys.exit(main())
