"""The cache of resolved dependencies: one folder per requirements, runtime and architecture.

aws-lambda-builders fills such a folder when given it as ``dependencies_dir`` and copies it into later
builds (``sam build --cached`` does the same). An entry counts once its ``.done`` stamp is written
after a download succeeded, so an interrupted build never leaves a half-filled entry that later builds
would take; a lock makes a second build of the same key wait and reuse the first one's.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from pathlib import Path


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wsapp" / "lambda-deps"


def key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return f"py-{digest.hexdigest()[:24]}"


class Entry:
    """Holds ``folder``'s lock; ``with`` says whether its dependencies must be downloaded (a miss)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock: int | None = None
        self._missed = False

    def __enter__(self) -> bool:
        if self.folder is None:
            return False
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(f"{self.folder}.lock", os.O_CREAT | os.O_RDWR)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._missed = not Path(f"{self.folder}.done").is_file()
        if self._missed and self.folder.exists():
            shutil.rmtree(self.folder)
        return self._missed

    def __exit__(self, kind: object, *_: object) -> None:
        if self._lock is None or self.folder is None:
            return
        if self._missed and kind is None:
            Path(f"{self.folder}.done").touch()
        os.close(self._lock)
