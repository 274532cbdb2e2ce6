"""``wsapp init``: a new project that uses wsapp as a library, written from the files under ``project/``.

Each file is written with ``@@package`` (the project's Python package), ``@@stack`` (a stack name made
from it) and ``@@version`` (wsapp's version) substituted, by :class:`string.Template` with ``@@`` as its
delimiter: templates, handlers and notebooks are full of ``$`` (``$connect``, ``${AWS::Region}``) and never
hold ``@@``. A path part ``dot-x`` is written ``.x`` (``dot-github``, ``dot-gitignore``), as hidden files
make awkward package data.
"""

from __future__ import annotations

import keyword
import re
import string
import sys
from importlib import resources
from importlib.abc import Traversable
from importlib.util import find_spec
from pathlib import Path

import wsapp

SKIPPED = ("__pycache__", ".pyc")  # left behind if anything ever imported the scaffold's modules


class ScaffoldError(Exception):
    """A folder or a name ``wsapp init`` will not use; the message says why."""


class _Text(string.Template):
    delimiter = "@@"


def package_name(target: Path, explicit: str | None = None) -> str:
    """``explicit``, else the folder's name made an identifier (``my-app`` → ``my_app``); checked to be a
    module name the functions can import without hiding another one."""
    name = explicit if explicit is not None else re.sub(r"[^0-9A-Za-z_]", "_", target.resolve().name).lower()
    if not name.isidentifier() or keyword.iskeyword(name):
        where = "--name" if explicit is not None else f"the folder name {target.resolve().name!r}"
        raise ScaffoldError(f"{where} does not make a Python package name; give one with --name")
    if name in sys.stdlib_module_names or name == "wsapp" or find_spec(name) is not None:
        raise ScaffoldError(f"the package name {name!r} is already a module here; choose another with --name")
    return name


def render(package: str) -> dict[str, str]:
    """The project's files: relative path → text."""
    stack = package.replace("_", "-").strip("-")  # a stack name holds letters, digits and hyphens only
    values = {"package": package, "stack": stack, "version": wsapp.__version__}
    files: dict[str, str] = {}
    for relative, source in _walk(resources.files(__name__) / "project", ()):
        path = "/".join("." + part[4:] if part.startswith("dot-") else part for part in relative)
        files[_Text(path).substitute(values)] = _Text(source.read_text(encoding="utf-8")).substitute(values)
    return dict(sorted(files.items()))


def create(target: Path, package: str) -> list[Path]:
    """Write the project into ``target``, which must be absent or empty; the files written."""
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise ScaffoldError(f"{target} is not empty; give a new or empty folder")
    written = []
    for relative, text in render(package).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _walk(folder: Traversable, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Traversable]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(SKIPPED):
            continue
        if entry.is_dir():
            found += _walk(entry, (*prefix, entry.name))
        else:
            found.append(((*prefix, entry.name), entry))
    return found
