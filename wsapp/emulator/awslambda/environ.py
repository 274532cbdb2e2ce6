"""Per-function environment variables in one process.

Each function has its own Environment, but ``os.environ`` is process-wide. While the emulator runs,
``os.environ`` is replaced by a mapping that lays the current thread's function environment over
the process environment, so handlers read their own variables with ``os.environ``/``os.getenv``
exactly as on Lambda, and two functions never see each other's settings. A thread that a handler
starts (a ``ThreadPoolExecutor`` fanning out posts, say) sees its function's environment too, as it
would on Lambda where ``os.environ`` belongs to the whole process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

_local = threading.local()


class OverlayEnviron(MutableMapping[str, str]):
    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base

    @staticmethod
    def _overlay() -> Mapping[str, str]:
        return getattr(_local, "overlay", None) or {}

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if key in overlay:
            return overlay[key]
        return self.base[key]

    def get(self, key: str, default: Any = None) -> Any:  # the hot path: os.environ.get / os.getenv
        overlay = getattr(_local, "overlay", None)
        if overlay and key in overlay:
            return overlay[key]
        return self.base.get(key, default)

    def __contains__(self, key: object) -> bool:
        overlay = getattr(_local, "overlay", None)
        return bool(overlay and key in overlay) or key in self.base

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if key in overlay and isinstance(overlay, dict):
            overlay[key] = value  # a handler changing its own variable, as it may on Lambda
        else:
            self.base[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if key in overlay and isinstance(overlay, dict):
            del overlay[key]
        else:
            del self.base[key]

    def __iter__(self) -> Iterator[str]:
        overlay = self._overlay()
        yield from overlay
        yield from (k for k in self.base if k not in overlay)

    def __len__(self) -> int:
        return len(set(self.base) | set(self._overlay()))

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __getattr__(self, name: str) -> Any:  # encodekey, putenv users and other os._Environ details
        return getattr(self.base, name)


_install_lock = threading.Lock()
_installs = 0
_thread_start = threading.Thread.start


def _start_inheriting(self: threading.Thread) -> None:
    """``Thread.start`` that hands the starting thread's function environment to the new thread."""
    overlay = getattr(_local, "overlay", None)
    if overlay is not None:
        run = self.run

        def run_with_environment() -> None:
            _local.overlay = overlay
            run()

        self.run = run_with_environment  # type: ignore[method-assign]
    _thread_start(self)


def install() -> None:
    """Put the overlay in place (reference-counted: several emulators may run in one process)."""
    global _installs
    with _install_lock:
        if _installs == 0 and not isinstance(os.environ, OverlayEnviron):
            os.environ = OverlayEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - deliberate swap
            threading.Thread.start = _start_inheriting  # type: ignore[method-assign]
        _installs += 1


def uninstall() -> None:
    global _installs
    with _install_lock:
        _installs -= 1
        if _installs == 0 and isinstance(os.environ, OverlayEnviron):
            os.environ = os.environ.base  # type: ignore[assignment]  # noqa: B003
            threading.Thread.start = _thread_start  # type: ignore[method-assign]


def set_thread_environment(variables: dict[str, str] | None) -> None:
    """The calling thread (an execution environment) sees ``variables`` over the process environment."""
    _local.overlay = variables
