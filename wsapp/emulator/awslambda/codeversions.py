"""Which version of each function's code is on disk: edit a handler, the next event gets a fresh
environment that loads the new code (as after a deploy), without restarting the emulator.

A background thread looks at the source files under each code folder a few times a second (skipping
virtual environments, ``node_modules``, caches and build output) and counts a new *generation* when
one appeared, disappeared or changed. Environments remember the generation they started with.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".json", ".sh")
SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    ".venv-lab",
    "venv",
    "env",
    "node_modules",
    "site-packages",  # installed packages (a layer's python/lib/python3.x/site-packages): not edited
    "__pycache__",
    ".wsapp",
    "build",
    "dist",
    ".aws-sam",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    ".tox",
}


def snapshot(root: Path, limit: int = 20_000) -> dict[str, float]:
    """path → mtime of the source files under ``root`` (at most ``limit`` of them)."""
    found: dict[str, float] = {}
    stack = [str(root)]
    while stack and len(found) < limit:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS and not entry.name.endswith(".egg-info"):
                        stack.append(entry.path)
                elif entry.name.endswith(SOURCE_SUFFIXES) or entry.name == "bootstrap":
                    found[entry.path] = entry.stat().st_mtime
            except OSError:
                continue
    return found


class CodeVersions:
    def __init__(self, roots: Iterable[Path], interval: float = 0.25) -> None:
        self.roots = sorted({Path(r).resolve() for r in roots})
        self.interval = interval
        self._generations = dict.fromkeys(self.roots, 0)
        self._seen = {root: snapshot(root) for root in self.roots}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def generation(self, root: Path) -> int:
        return self._generations.get(root, 0)

    def check(self) -> None:
        for root in self.roots:
            now = snapshot(root)
            if now != self._seen[root]:
                self._seen[root] = now
                self._generations[root] += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wsapp-code-versions", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
