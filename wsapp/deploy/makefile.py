"""``Metadata: BuildMethod: makefile``: the function's own Makefile target, as ``sam build`` runs it.

aws-lambda-builders' make workflow runs ``make build-<LogicalId>`` with ``ARTIFACTS_DIR``, here in the
code folder itself (``sam build --build-in-source``, as this repo's samconfig.toml sets it), with
``PYTHON`` (this interpreter), ``PYTHONPATH`` (so it imports the wsapp running this) and the
template's ``RUNTIME`` and ``ARCHITECTURE``, which ``sam build`` does not pass to a Makefile.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import wsapp
from wsapp.deploy.environ import overridden
from wsapp.deploy.package import PackagingError

if TYPE_CHECKING:
    from wsapp.deploy.build import BuildSpec


def run_target(spec: BuildSpec, out: Path) -> None:
    from aws_lambda_builders.builder import LambdaBuilder
    from aws_lambda_builders.exceptions import LambdaBuilderError

    makefile = spec.source / "Makefile"
    if not makefile.is_file():
        raise PackagingError(f"{spec.logical_id}: BuildMethod makefile, but {makefile} does not exist")
    # The make target's Python imports the wsapp this one runs (a checkout, an installed package).
    path = os.pathsep.join(
        p for p in (str(Path(wsapp.__file__).parents[1]), os.environ.get("PYTHONPATH")) if p
    )
    env = {
        "PYTHON": sys.executable,
        "PYTHONPATH": path,
        "RUNTIME": spec.runtime,
        "ARCHITECTURE": spec.architecture,
    }
    # aws-lambda-builders runs make with this process's environment
    with overridden(env), tempfile.TemporaryDirectory(prefix="wsapp-make-") as scratch:
        try:
            LambdaBuilder(language="provided", dependency_manager=None, application_framework=None).build(
                str(spec.source),
                str(out),
                scratch,
                str(makefile),
                runtime="provided",
                architecture=spec.architecture,
                build_in_source=True,
                options={"build_logical_id": spec.logical_id, "working_directory": str(spec.source)},
            )
        except LambdaBuilderError as exc:
            raise PackagingError(f"{spec.logical_id}: {' '.join(str(exc).split())[:400]}") from None
