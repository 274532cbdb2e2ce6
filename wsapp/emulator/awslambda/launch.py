"""How an execution environment's process starts, per runtime family (lambda-runtime-reference §5).

- ``python3.x``: this interpreter runs AWS's runtime interface client, ``awslambdaric`` (PyPI), through
  ``runtimes/python/bootstrap.py``; boto3 comes from the interpreter's packages, as ``/var/runtime``
  provides it on Lambda.
- ``nodejs18.x/20.x/22.x``: ``node`` runs AWS's ``aws-lambda-ric`` (npm) through
  ``runtimes/nodejs/index.mjs``, from a runtime folder that also holds the AWS SDK for JavaScript v3
  (``wsapp runtimes install nodejs`` makes it).
- ``provided.al2``/``provided.al2023``: the code's own ``bootstrap`` executable, unmodified.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from wsapp.emulator.awslambda.environment import family
from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.template.model import FunctionSpec

RUNTIMES = Path(__file__).resolve().parent / "runtimes"
PYTHON_BOOTSTRAP = RUNTIMES / "python" / "bootstrap.py"
NODE_ENTRY = RUNTIMES / "nodejs" / "index.mjs"
NODE_RUNTIME_VARIABLE = "WSAPP_NODE_RUNTIME"


@dataclass(frozen=True)
class Launch:
    """The command that starts one environment, the folder it plays ``/var/runtime`` with, its PATH head."""

    command: tuple[str, ...]
    runtime_dir: Path
    interpreter_dir: Path | None
    local_version: str  # the interpreter that really runs the function here (for INIT_START)


def node_runtime_dir() -> Path:
    """Where ``aws-lambda-ric`` and the AWS SDK v3 are installed: ``$WSAPP_NODE_RUNTIME``, else the cache."""
    configured = os.environ.get(NODE_RUNTIME_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "wsapp" / "node-runtime"


@cache
def _node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip() or "unknown"


# Experimental features upstream Node.js turns on and Lambda turns off, per runtime; a NODE_OPTIONS that
# names the feature turns it back on [DOC lambda-nodejs "experimental features that Lambda disables"].
NODE_DISABLED = {
    "--experimental-require-module": ("nodejs20.x", "nodejs22.x"),  # require() of an ES module
    "--experimental-detect-module": ("nodejs22.x",),  # ES-module syntax in a .js without "type"
}


@cache
def _node_accepts(node: str, flag: str) -> bool:
    done = subprocess.run([node, flag, "-e", "0"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def node_flags(node: str, spec: FunctionSpec) -> tuple[str, ...]:
    """The ``--no-experimental-…`` flags Lambda starts ``spec``'s runtime with (those this node knows:
    an older one lacks the feature, so there is nothing to turn off)."""
    options = spec.environment.get("NODE_OPTIONS", "")
    flags = []
    for feature, runtimes in NODE_DISABLED.items():
        off = "--no-" + feature.removeprefix("--")
        if spec.runtime in runtimes and feature not in options and _node_accepts(node, off):
            flags.append(off)
    return tuple(flags)


def launch_for(spec: FunctionSpec, layer_bootstraps: Sequence[Path] = ()) -> Launch:
    """The command for ``spec``'s runtime, or one line naming the function and what is missing.

    ``layer_bootstraps``: the ``bootstrap`` files of its layers, later layer first (``/opt/bootstrap``).
    """
    kind = family(spec.runtime)
    if kind == "python":
        return Launch(
            (sys.executable, str(PYTHON_BOOTSTRAP)),
            PYTHON_BOOTSTRAP.parent,
            Path(sys.executable).parent,
            ".".join(map(str, sys.version_info[:3])),
        )
    if kind == "nodejs":
        node = shutil.which("node")
        if node is None:
            raise EmulatorError(
                f"{spec.logical_id}: Runtime {spec.runtime} needs Node.js; `node` is not on PATH"
            )
        runtime_dir = node_runtime_dir()
        if not (runtime_dir / "node_modules" / "aws-lambda-ric" / "dist" / "index.mjs").exists():
            raise EmulatorError(
                f"{spec.logical_id}: Runtime {spec.runtime} needs AWS's Node.js runtime interface client in "
                f"{runtime_dir}; run `wsapp runtimes install nodejs` (or set {NODE_RUNTIME_VARIABLE})"
            )
        command = (node, *node_flags(node, spec), str(NODE_ENTRY))
        return Launch(command, runtime_dir, Path(node).parent, _node_version(node))
    if kind == "provided":
        # The task root's bootstrap first, else /opt/bootstrap [RIE:rie/run.go bootstrap lookup]
        candidates = [spec.code_root / "bootstrap", *layer_bootstraps]
        for candidate in candidates:
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return Launch((str(candidate),), candidate.parent, None, "bootstrap")
        raise EmulatorError(
            f"{spec.logical_id}: Runtime {spec.runtime} needs an executable `bootstrap` in its CodeUri "
            f"({spec.code_root}) or a layer; found none"
        )
    raise EmulatorError(f"{spec.logical_id}: Runtime {spec.runtime!r} is not one the emulator can run")
