#!/usr/bin/env python3
"""The README's two commands, needing only Python 3.11+:

    python3 dev.py lab    # JupyterLab on notebooks/ (creates .venv-lab on first use)
    python3 dev.py test   # the whole test suite: ruff, pytest on tests/, strict nbval on notebooks/, then
                          # tests/emulator and tests/reliability again with --isolation thread
    python3 dev.py notebooks [NAME ...]  # re-run notebooks in place (all, or those named), outputs kept
    python3 dev.py scaffold  # re-run the notebook `wsapp init` writes, in a fresh project; outputs kept
    python3 dev.py bench  # the benchmarks (bench/run.py), figures against the machine's ceiling

Tests and benchmarks run in .venv; JupyterLab gets an environment of its own, .venv-lab, because it
drags in a package that makes every ``import jsonschema`` (nbformat, samtranslator, cfn-lint) take
seconds. Each is re-installed whenever pyproject.toml changes. When ``npm`` is on PATH, the tests also
get the Node.js runtime (``wsapp runtimes install nodejs`` into .wsapp/node-runtime, re-installed when
its pinned package set changes), so the Node.js function tests run instead of skipping.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SCRIPTS = "Scripts" if os.name == "nt" else "bin"
BIN = ROOT / ".venv" / SCRIPTS
PY = BIN / "python"
NODE_RUNTIME = ROOT / ".wsapp" / "node-runtime"
NODE_PACKAGES = ROOT / "wsapp" / "emulator" / "awslambda" / "runtimes" / "nodejs"


def ensure_env(extras: str, venv_dir: Path = ROOT / ".venv") -> Path:
    """Create ``venv_dir`` with wsapp and ``extras`` installed, unless that install is already there.

    Returns the environment's scripts folder.
    """
    scripts = venv_dir / SCRIPTS
    python = scripts / "python"
    stamp = venv_dir / f".wsapp-{extras.replace(',', '-')}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return scripts
    if not python.exists():
        print(f"creating {venv_dir.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
        run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    print(f"installing wsapp[{extras}] into {venv_dir.relative_to(ROOT)} ...", flush=True)
    run(python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]")
    stamp.write_text(digest)
    return scripts


def ensure_node_runtime() -> dict[str, str]:
    """The Node.js runtime in .wsapp/node-runtime, unless that install is already there; the variable
    that points functions at it (none when it is not installed and npm is missing)."""
    stamp = NODE_RUNTIME / ".wsapp-packages"
    digest = hashlib.sha256()
    for name in (
        "runtime-package.json",
        "runtime-package-lock.json",
        "sdk-v2-package.json",
        "sdk-v2-package-lock.json",
    ):
        digest.update((NODE_PACKAGES / name).read_bytes())
    if not (stamp.exists() and stamp.read_text() == digest.hexdigest()):
        if shutil.which("npm") is None:
            print("npm not found: the Node.js function tests will skip", flush=True)
            return {}
        stamp.unlink(missing_ok=True)
        run(BIN / "wsapp", "runtimes", "install", "nodejs", "--dir", NODE_RUNTIME)
        stamp.write_text(digest.hexdigest())
    return {"WSAPP_NODE_RUNTIME": str(NODE_RUNTIME)}


def run(*args: object, env: dict[str, str] | None = None) -> None:
    environment = None if env is None else {**os.environ, **env}
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=environment)
    if code:
        sys.exit(code)


def lab(argv: list[str]) -> None:
    scripts = ensure_env("test,lab", ROOT / ".venv-lab")
    jupyter = str(scripts / "jupyter")
    # JupyterLab refuses to start as root unless told; containers, CI boxes and cloud notebooks run as root.
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    os.execv(jupyter, [jupyter, "lab", "--notebook-dir", str(ROOT / "notebooks"), *as_root, *argv])


def test(argv: list[str]) -> None:
    ensure_env("test")
    run(BIN / "ruff", "check", "wsapp", "tests", "bench", "dev.py")
    paths = ["tests"]
    nbval: list[str] = []
    if any((ROOT / "notebooks").glob("*.ipynb")):
        paths.append("notebooks")
        nbval = [
            "--nbval",
            "--nbval-current-env",
            "--nbval-cell-timeout",
            "60",
            "--nbval-sanitize-with",
            "notebooks/nbval_sanitize.cfg",
        ]
    env = ensure_node_runtime()
    run(PY, "-m", "pytest", *nbval, *paths, *argv, env=env)
    if not argv:  # the whole suite: the gateway's own suites once more, with handlers in threads
        threads = {**env, "WSAPP_ISOLATION": "thread"}
        run(PY, "-m", "pytest", "tests/emulator", "tests/reliability", env=threads)


def notebooks(argv: list[str]) -> None:
    """Execute notebooks top to bottom in their folder and store the fresh outputs (what nbval compares)."""
    ensure_env("test")
    names = argv or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    paths = [str(ROOT / "notebooks" / (n if n.endswith(".ipynb") else f"{n}.ipynb")) for n in names]
    script = (
        "import sys, nbformat; from nbclient import NotebookClient\n"
        "for path in sys.argv[1:]:\n"
        "    nb = nbformat.read(path, as_version=4)\n"
        "    NotebookClient(nb, timeout=120, kernel_name='python3', allow_errors=True, record_timing=False,\n"
        "                   resources={'metadata': {'path': 'notebooks'}}).execute()\n"
        "    nbformat.write(nb, path)\n"
        "    print('ran', path)\n"
    )
    run(PY, "-c", script, *paths, env=ensure_node_runtime())


SCAFFOLD_NOTEBOOK = ROOT / "wsapp" / "scaffold" / "project" / "notebooks" / "hello.ipynb"
# The scaffold's sources hold @@placeholders, so the notebook runs in a project `wsapp init` wrote and only
# its outputs come back (they name no placeholder: nbval compares them in every project made).
SCAFFOLD_SCRIPT = """\
import pathlib, sys, tempfile, nbformat
from nbclient import NotebookClient
from wsapp.scaffold import create
stored_path = pathlib.Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    project = pathlib.Path(tmp, "demo")
    create(project, "demo")
    path = project / "notebooks" / stored_path.name
    ran = nbformat.read(path, as_version=4)
    NotebookClient(ran, timeout=120, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
stored = nbformat.read(stored_path, as_version=4)
for cell, fresh in zip(stored.cells, ran.cells, strict=True):
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = fresh.outputs, fresh.execution_count
nbformat.write(stored, stored_path)
print("ran", stored_path)
"""


def scaffold(argv: list[str]) -> None:
    """Execute the notebook of a fresh `wsapp init` project; store its outputs in the scaffold."""
    ensure_env("test")
    run(PY, "-c", SCAFFOLD_SCRIPT, SCAFFOLD_NOTEBOOK)


def bench(argv: list[str]) -> None:
    ensure_env("test")
    run(PY, ROOT / "bench" / "run.py", *argv)


def main() -> None:
    commands = {"lab": lab, "test": test, "notebooks": notebooks, "scaffold": scaffold, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(commands)}}} [extra arguments]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
