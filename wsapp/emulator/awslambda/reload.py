"""Edit a handler, send the next event, see the change: no restart.

Modules loaded from a function's code folder (never installed packages, never the emulator itself)
are watched; when one changes on disk they are all dropped from ``sys.modules`` so the next
invocation imports them afresh, like a new deployment's cold start.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable
from pathlib import Path

# The emulator and the CLI are never function code, even when a template's CodeUri is the folder that
# holds them (this repository's own template): purging them would leave two EmulatorError classes.
_OWN = ("wsapp.emulator", "wsapp.cli")
# As modules name their files (through a symlinked venv, say) and resolved: a venv linked into the code
# folder is still installed packages, never function code to purge.
_INSTALLED = tuple(
    {
        form
        for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], sys.prefix)
        for form in (str(Path(p).absolute()), str(Path(p).resolve()))
    }
)


class CodeWatcher:
    def __init__(self, roots: Iterable[Path], min_interval: float = 0.2) -> None:
        self.roots = tuple(str(Path(r).resolve()) + os.sep for r in set(roots))
        self.min_interval = min_interval
        self._mtimes: dict[str, float] = {}
        self._checked = 0.0
        self._lock = threading.Lock()
        self._cache: tuple[int, dict[str, str]] = (-1, {})

    def _watched(self) -> dict[str, str]:
        """name → file of loaded modules that belong to the function code.

        Scanning ``sys.modules`` costs milliseconds; it is redone only when modules came or went.
        """
        count, found = self._cache
        if count == len(sys.modules):
            return found
        found = {}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path or name.startswith(_OWN) or not path.startswith(self.roots):
                continue
            if path.startswith(_INSTALLED):
                continue
            found[name] = path
        self._cache = (len(sys.modules), found)
        return found

    def purge(self) -> None:
        """Forget the function code's modules (their next import runs them afresh)."""
        with self._lock:
            for name in self._watched():
                sys.modules.pop(name, None)
            self._mtimes.clear()

    def snapshot(self) -> None:
        """Remember the on-disk version of the code just imported: any later edit counts as a change.

        Without this, a module's mtime was first read at the first check *after* the import, so an edit
        made before that check (within ``min_interval`` of start, or before the first event) became the
        baseline and was never picked up.
        """
        with self._lock:
            for path in self._watched().values():
                try:
                    self._mtimes.setdefault(path, os.stat(path).st_mtime)
                except OSError:
                    continue

    def refresh_if_changed(self) -> bool:
        """Purge if any watched module changed since last seen; True when it did."""
        now = time.monotonic()
        if now - self._checked < self.min_interval:
            return False
        with self._lock:
            self._checked = now
            modules = self._watched()
            changed = False
            for path in modules.values():
                try:
                    mtime = os.stat(path).st_mtime
                except OSError:
                    continue
                if self._mtimes.setdefault(path, mtime) != mtime:
                    changed = True
            if changed:
                for name in modules:
                    sys.modules.pop(name, None)
                self._mtimes.clear()
            return changed
