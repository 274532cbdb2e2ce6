"""``sam build``'s dependency step, done locally and cached: a function's (or a built layer's)
``requirements.txt`` installed with ``pip install -r … --target``, its ``package.json`` with
``npm ci``/``npm install --omit=dev`` [SAM:lib/build/app_builder.py, aws-lambda-builders' python_pip
and nodejs_npm workflows].

Each install goes into ``<project>/.wsapp/deps/<kind>-<hash>/``, keyed by the manifest's content, the
runtime, the architecture and the interpreter that runs the functions here, and is reused until one of
them changes. It is made in a temporary folder and renamed into place when complete, so two emulators
starting at once, or an install interrupted half-way, never leave a broken cache behind.

What differs from ``sam build``: packages are installed for this machine's interpreter and platform
(the code runs here), not downloaded as manylinux wheels for the runtime; a local package named in
requirements.txt is copied when installed, so its later edits need a changed requirements.txt (or
``rm -r .wsapp/deps``); npm links a ``file:`` folder, so those edits are live.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.logs import LogSink

INSTALL_TIMEOUT = 900.0  # seconds; a registry that never answers should not hang start-up forever
_NODE_DEPENDENCY_KINDS = ("dependencies", "optionalDependencies")
_NPM_NOISE = re.compile(r"npm (error|ERR!) (code|errno|syscall|path|A complete log|Log files|\s*/)")


class Dependencies:
    """Installs and caches dependencies under ``cache`` (``<project>/.wsapp``).

    ``install=False`` (``--skip-deps``) never runs pip or npm: an install already cached for the current
    manifest is still used, anything else is reported as missing.
    """

    def __init__(self, cache: Path, *, install: bool = True, sink: LogSink | None = None) -> None:
        self.cache = Path(cache)
        self.install = install
        self.sink = sink or LogSink(None)
        self.warnings: list[str] = []

    # -- Python -------------------------------------------------------------------------------------
    def python(self, requirements: Path, runtime: str, architecture: str, owner: str) -> Path | None:
        """The folder ``requirements`` is installed in (None: the file is absent, or nothing installed)."""
        if not requirements.is_file():
            return None
        interpreter = f"{sys.implementation.cache_tag}-{platform.machine()}"
        key = _key("py", requirements.read_bytes(), runtime, architecture, interpreter)

        def run(target: Path) -> None:
            command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
            command += ["--quiet", "--target", str(target), "-r", str(requirements)]
            # Paths in requirements.txt (./vendor/pkg.whl) are read from its own folder.
            _run(command, requirements.parent, f"{owner}: pip install -r {requirements.name}")

        return self._cached(key, owner, requirements.name, run)

    # -- Node.js ------------------------------------------------------------------------------------
    def node(self, manifest: Path, runtime: str, architecture: str, owner: str) -> Path | None:
        """The folder whose ``node_modules`` holds ``manifest``'s dependencies (None: no package.json)."""
        if not manifest.is_file():
            return None
        folder = manifest.parent
        lock = folder / "package-lock.json"
        text = manifest.read_bytes()
        try:
            package = json.loads(text)
        except ValueError as exc:
            raise EmulatorError(f"{owner}: {manifest} is not JSON: {exc}") from None
        linked = _absolute_file_dependencies(package, folder)
        lock_bytes = lock.read_bytes() if lock.is_file() else b""
        key = _key("npm", text, lock_bytes, runtime, architecture, _node_version())

        def run(target: Path) -> None:
            npm = shutil.which("npm")
            if npm is None:
                raise EmulatorError(f"{owner}: installing {manifest.name} needs npm; `npm` is not on PATH")
            (target / "package.json").write_text(json.dumps(package, indent=2))
            if (folder / ".npmrc").is_file():  # registry settings, as sam build copies them
                shutil.copyfile(folder / ".npmrc", target / ".npmrc")
            # npm ci installs exactly the lock file; a rewritten file: path no longer matches it.
            if lock_bytes and not linked:
                (target / "package-lock.json").write_bytes(lock_bytes)
                command = [npm, "ci", "--omit=dev", "--no-audit", "--no-fund"]
            else:
                command = [npm, "install", "--omit=dev", "--no-audit", "--no-fund"]
            _run(command, target, f"{owner}: npm {command[1]}")

        return self._cached(key, owner, manifest.name, run)

    # -- layers as .zip files -----------------------------------------------------------------------
    def extracted(self, archive: Path, owner: str) -> Path:
        """A layer's ``.zip`` content extracted (once per archive content), as Lambda extracts it."""
        key = _key("zip", archive.read_bytes())

        def run(target: Path) -> None:
            try:
                with zipfile.ZipFile(archive) as zipped:
                    zipped.extractall(target)
            except (zipfile.BadZipFile, OSError) as exc:
                raise EmulatorError(f"{owner}: cannot extract {archive}: {exc}") from None

        folder = self._cached(key, owner, archive.name, run, always=True, quiet=True)
        assert folder is not None
        return folder

    # -- the cache ----------------------------------------------------------------------------------
    def _cached(
        self,
        key: str,
        owner: str,
        what: str,
        run: Callable[[Path], None],
        *,
        always: bool = False,
        quiet: bool = False,
    ) -> Path | None:
        final = self.cache / "deps" / key
        if final.is_dir():
            return final
        if not (self.install or always):
            self.warnings.append(f"{owner}: {what} is not installed (dependency installs are skipped)")
            return None
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(final.parent, key)
        temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-{os.getpid()}-", dir=final.parent))
        try:
            if not quiet:
                self.sink.emit(f"installing dependencies for {owner} ({what})...\n")
            run(temporary)
            try:
                temporary.rename(final)  # atomic: the cache is complete or absent
            except OSError:
                if not final.is_dir():
                    raise
                # another emulator installed the same thing first: use its copy
        finally:
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)
        return final


def _key(kind: str, *parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return f"{kind}-{digest.hexdigest()[:24]}"


def _run(command: list[str], cwd: Path, what: str) -> None:
    """Run an installer; its failure is one line: what failed and the tool's last error line."""
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EmulatorError(f"{what} did not finish within {INSTALL_TIMEOUT:g} s") from None
    except OSError as exc:
        raise EmulatorError(f"{what} could not start: {exc.strerror}") from None
    if done.returncode != 0:
        raise EmulatorError(f"{what} failed: {_last_error(done.stderr or done.stdout)}")


def _last_error(output: str) -> str:
    """pip's last ``ERROR:`` line; npm's first ``npm error`` line that says more than a code or where
    its log went; else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    npm = [line for line in lines if line.startswith(("npm error", "npm ERR!"))]
    if npm:
        telling = [line for line in npm if not _NPM_NOISE.match(line)]
        return (telling or npm)[0]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


def _absolute_file_dependencies(package: dict[str, object], folder: Path) -> bool:
    """Rewrite ``file:`` (and ``./``, ``../``) dependencies to absolute paths, since the install runs in
    another folder (aws-lambda-builders rewrites local dependencies likewise); True if any was."""
    changed = False
    for kind in _NODE_DEPENDENCY_KINDS:
        listed = package.get(kind)
        if not isinstance(listed, dict):
            continue
        for name, spec in listed.items():
            if not isinstance(spec, str):
                continue
            path = spec.removeprefix("file:")
            if spec.startswith("file:") or path.startswith(("./", "../")):
                listed[name] = f"file:{(folder / path).resolve()}"
                changed = True
    return changed


def _node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "no-node"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip() or "unknown"


def _remove_abandoned(folder: Path, key: str) -> None:
    """Temporary folders of installs whose process is gone (interrupted): nobody will finish them."""
    for stale in folder.glob(f".tmp-{key}-*"):
        try:
            pid = int(stale.name.removeprefix(f".tmp-{key}-").split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except (ValueError, PermissionError):
            continue
