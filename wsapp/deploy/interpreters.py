"""Where aws-lambda-builders finds the Python a runtime needs, as ``sam build`` needs it too.

Resolving requirements for ``python3.12`` takes a Python 3.12 with pip on this machine (pip
evaluates markers and ``Requires-Python`` for the interpreter it runs on). aws-lambda-builders looks
for ``python3.12``, then ``python`` and ``python3`` on ``PATH``, and checks the version; these folders
come first: this interpreter's own when it is that version, and pyenv's installed versions of it (a
pyenv shim on ``PATH`` answers only for the versions its ``global`` setting names).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path


def search_paths(runtime: str) -> list[str]:
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    if not match:
        return []
    wanted = (int(match.group(1)), int(match.group(2)))
    found = []
    if sys.version_info[:2] == wanted:
        found.append(str(Path(sys.executable).parent))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        # Newest patch release first: 3.12.10 before 3.12.9.
        versions = [p for p in pyenv.glob(f"{wanted[0]}.{wanted[1]}.*") if re.fullmatch(r"[\d.]+", p.name)]
        versions.sort(key=lambda p: [int(x) for x in p.name.split(".")], reverse=True)
        found += [str(p / "bin") for p in versions if (p / "bin" / f"python{wanted[0]}.{wanted[1]}").exists()]
    return found
