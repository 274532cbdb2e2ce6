"""Artifacts as reproducible zips, and wsapp's own part of a function's code.

A built folder becomes a zip whose bytes depend only on the files' paths, contents and executable
bits (sorted entries, one timestamp, two modes), so its SHA-256 names it in S3 and an unchanged
function is never uploaded twice. Byte code is left out: it holds the build's clock, and Lambda
compiles what it imports.

wsapp is not on the functions' ``requirements.txt`` (a project made by ``wsapp init`` imports the
wsapp it is tested with), so when a function's code imports it, its runtime modules are copied from
the installed package and its runtime dependencies are pinned to the versions installed here, the
ones the tests ran with.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import wsapp

# What wsapp's handlers import at run time, besides the SDK that Lambda's runtime provides.
# snapshot-restore-py: the SnapStart hooks (wsapp.snapstart); Lambda's python3.12+ runtimes bundle it
# too, and whichever copy is imported first is the one both the handler and the runtime use.
RUNTIME_DISTRIBUTIONS = ("PyJWT", "aws-lambda-powertools", "snapshot-restore-py")
# Workbench parts of wsapp that no handler imports (the layering test keeps it that way).
EXCLUDED_SOURCES = (
    "emulator/",
    "deploy/",
    "cli/",
    "scaffold/",
    "__main__.py",
    "testing.py",
    "pytest_plugin.py",
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build clock leaks in
_SKIPPED_PARTS = {"__pycache__"}


class PackagingError(Exception):
    """Code that cannot be built or shipped as it is; the message says why."""


@dataclass(frozen=True)
class Artifact:
    data: bytes
    sha256: str
    files: int

    @property
    def key(self) -> str:
        """The S3 key: content-addressed, so an unchanged build is never uploaded twice."""
        return f"wsapp/{self.sha256}.zip"


def zip_entries(entries: list[tuple[str, Path]]) -> Artifact:
    """The zip of ``(archive name, path)`` pairs; the same names and files give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            # Two modes only: umask and checkout mode do not matter, an executable (a bootstrap) stays one.
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever builds it
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    data = buffer.getvalue()
    return Artifact(data=data, sha256=hashlib.sha256(data).hexdigest(), files=len(entries))


def folder_entries(folder: Path) -> list[tuple[str, Path]]:
    """Every file under ``folder`` (symbolic links followed) but byte code, by archive name."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if _SKIPPED_PARTS & set(rel.parts) or path.suffix == ".pyc" or not path.is_file():
            continue
        found.append((rel.as_posix(), path))
    return found


def zip_folder(folder: Path) -> Artifact:
    return zip_entries(folder_entries(folder))


def source_files(package_dir: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of wsapp's runtime modules."""
    root = Path(package_dir or Path(wsapp.__file__).parent)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and path.suffix in {".py", ".typed"} and not rel.startswith(EXCLUDED_SOURCES):
            yield f"wsapp/{rel}", path


def copy_sources(target: Path) -> None:
    """Copy wsapp's runtime modules into ``target`` (a function's built code)."""
    for name, path in source_files():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


def wsapp_requirements() -> list[str]:
    """wsapp's runtime dependencies pinned to the versions installed here (``PyJWT==2.10.1``, ...)."""
    pins = []
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            raise PackagingError(f"{name} is not installed beside wsapp; run: pip install wsapp") from None
    return pins


def imports_wsapp(folder: Path | None, handler: str | None = None) -> bool:
    """Whether the code needs wsapp: its handler is one of wsapp's, or a module under ``folder`` imports it.

    A folder that holds a ``wsapp`` package of its own needs nothing more.
    """
    if folder is not None and (folder / "wsapp" / "__init__.py").is_file():
        return False
    if handler is not None and handler.split(".", 1)[0] == "wsapp":
        return True
    if folder is None:
        return False
    for path in folder.rglob("*.py"):
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") or part in _SKIPPED_PARTS for part in rel):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # not this check's business: the function will fail to import on Lambda as here
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "wsapp" for a in node.names):
                return True
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").split(".")[0] == "wsapp"
            ):
                return True
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsapp.deploy.package", description=__doc__)
    parser.add_argument("--sources-into", type=Path, metavar="DIR", help="copy wsapp's runtime modules")
    parser.add_argument("--zip", nargs=2, type=Path, metavar=("FOLDER", "FILE"), help="zip a built folder")
    args = parser.parse_args(argv)
    if args.sources_into:
        copy_sources(args.sources_into)
    if args.zip:
        folder, target = args.zip
        artifact = zip_folder(folder)
        target.write_bytes(artifact.data)
        print(f"{target}: {artifact.files} files, sha256 {artifact.sha256}")


if __name__ == "__main__":
    main()
