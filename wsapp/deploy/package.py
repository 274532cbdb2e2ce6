"""The function code as a reproducible zip: wsapp's runtime modules plus PyJWT and Powertools.

Dependencies are copied from the distributions installed beside wsapp (their RECORD files list what
they own), so packaging needs no network. Only pure-Python distributions are accepted: a compiled
extension built for this machine would not load on Lambda's arm64 runtime. boto3 and botocore are
left out because the Lambda runtime provides them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import wsapp

RUNTIME_DISTRIBUTIONS = ("PyJWT", "aws-lambda-powertools")
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "urllib3", "jmespath", "python-dateutil", "six"}
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
# Lambda's python3.12 runtime on arm64, for evaluating dependency markers.
TARGET_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "platform_machine": "aarch64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build clock leaks in


class PackagingError(Exception):
    """A dependency that cannot be shipped as is."""


@dataclass(frozen=True)
class Artifact:
    data: bytes
    sha256: str
    files: int

    @property
    def key(self) -> str:
        """The S3 key: content-addressed, so an unchanged build is never uploaded twice."""
        return f"wsapp/{self.sha256}.zip"


def source_files(package_dir: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of wsapp's runtime modules."""
    root = Path(package_dir or Path(wsapp.__file__).parent)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and path.suffix in {".py", ".typed"} and not rel.startswith(EXCLUDED_SOURCES):
            yield f"wsapp/{rel}", path


def runtime_distributions(roots: tuple[str, ...] = RUNTIME_DISTRIBUTIONS) -> list[metadata.Distribution]:
    """The runtime distributions and their dependencies for the target, without Lambda's own."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    env = {**default_environment(), **TARGET_MARKERS}
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen or name in PROVIDED_BY_LAMBDA:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise PackagingError(f"{name} is not installed; run: pip install -e .") from None
        seen[name] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return [seen[n] for n in sorted(seen)]


def dependency_files(dists: list[metadata.Distribution]) -> Iterator[tuple[str, Path]]:
    for dist in dists:
        wheel = dist.read_text("WHEEL") or ""
        if "Root-Is-Purelib: true" not in wheel:
            raise PackagingError(f"{dist.metadata['Name']} has compiled parts; it cannot be copied to Lambda")
        for file in dist.files or []:
            name = file.as_posix()
            # Scripts live outside site-packages (../../bin); byte code is rebuilt on Lambda anyway.
            if name.startswith("..") or "__pycache__" in name or name.endswith(".pyc"):
                continue
            if name.endswith((".dist-info/RECORD", ".dist-info/INSTALLER", ".dist-info/direct_url.json")):
                continue
            yield name, Path(str(file.locate()))


def collect() -> list[tuple[str, Path]]:
    """Every (archive name, path) of the function code, sorted by archive name."""
    entries = dict(source_files())
    entries.update(dependency_files(runtime_distributions()))
    return sorted(entries.items())


def build_zip(entries: list[tuple[str, Path]] | None = None) -> Artifact:
    """The zip of ``entries`` (default: :func:`collect`); the same files give the same bytes."""
    entries = collect() if entries is None else sorted(entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16  # one mode for all: umask and checkout mode do not matter
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever builds it
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    data = buffer.getvalue()
    return Artifact(data=data, sha256=hashlib.sha256(data).hexdigest(), files=len(entries))


def copy_sources(target: Path) -> None:
    """Copy wsapp's runtime modules into ``target`` (the Makefile's half of ``sam build``)."""
    for name, path in source_files():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsapp.deploy.package", description=__doc__)
    parser.add_argument("--sources-into", type=Path, metavar="DIR", help="copy wsapp's runtime modules")
    parser.add_argument("--zip", type=Path, metavar="FILE", help="write the whole function zip")
    args = parser.parse_args(argv)
    if args.sources_into:
        copy_sources(args.sources_into)
    if args.zip:
        artifact = build_zip()
        args.zip.write_bytes(artifact.data)
        print(f"{args.zip}: {artifact.files} files, sha256 {artifact.sha256}")


if __name__ == "__main__":
    main()
