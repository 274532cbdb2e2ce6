#!/usr/bin/env python3
"""The README's two commands, needing only Python 3.11+:

    python3 dev.py lab    # JupyterLab on notebooks/ (creates .venv with the lab extras on first use)
    python3 dev.py test   # the whole test suite: ruff, pytest on tests/, strict nbval on notebooks/
    python3 dev.py bench  # the benchmarks (bench/run.py), figures against the machine's ceiling

The environment lives in .venv and is re-installed whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def ensure_env(extras: str) -> None:
    """Create .venv and install wsapp with ``extras``, unless the same install is already there."""
    stamp = VENV / f".wsapp-{extras.replace(',', '-')}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not PY.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    print(f"installing wsapp[{extras}] ...", flush=True)
    run(PY, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]")
    stamp.write_text(digest)


def run(*args: object) -> None:
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if code:
        sys.exit(code)


def lab(argv: list[str]) -> None:
    ensure_env("test,lab")
    os.execv(
        str(BIN / "jupyter"), [str(BIN / "jupyter"), "lab", "--notebook-dir", str(ROOT / "notebooks"), *argv]
    )


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
    run(PY, "-m", "pytest", *nbval, *paths, *argv)


def bench(argv: list[str]) -> None:
    ensure_env("test")
    run(PY, ROOT / "bench" / "run.py", *argv)


def main() -> None:
    commands = {"lab": lab, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(commands)}}} [extra arguments]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
