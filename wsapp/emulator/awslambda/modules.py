"""Which top-level Python modules a folder offers, and what follows when one process serves several
functions: the fork server's preloaded packages, and thread isolation's one shared ``sys.path``.

On Lambda every function has its own interpreter, so its dependencies and layers decide alone what
``import x`` finds. In one process, modules are loaded once for all: where two functions would find
the same name in different folders, one of them would run the other's copy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

_MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


def top_level_names(folder: Path) -> set[str]:
    """The names ``import`` finds in ``folder``: modules, extension modules and regular packages
    (a namespace package's folders merge across ``sys.path`` entries instead of hiding each other;
    ``bin/`` of a ``pip install --target`` is not a module)."""
    names: set[str] = set()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return names
    for entry in entries:
        name = entry.name
        if entry.is_dir():
            if name.isidentifier() and (entry / "__init__.py").is_file():
                names.add(name)
        elif name.endswith(_MODULE_SUFFIXES):
            stem = name.split(".", 1)[0]
            if stem.isidentifier():
                names.add(stem)
    return names


def offered(folders: Iterable[Path], among: Iterable[str]) -> set[str]:
    """Which of ``among`` some of ``folders`` offers."""
    wanted = set(among)
    found: set[str] = set()
    for folder in folders:
        found |= top_level_names(folder) & wanted
    return found


def _first(folders: Sequence[Path], name: str, names: Mapping[Path, set[str]]) -> Path | None:
    return next((folder for folder in folders if name in names[folder]), None)


def shared_path(paths: Mapping[str, Sequence[Path]]) -> tuple[list[Path], str | None]:
    """For thread isolation: every function's module folders in one ``sys.path`` (each function's
    order kept, first seen first), and why that cannot work, if a function would import some name
    from another folder than its own dependencies and layers give it.

    A function also sees the other functions' folders here (on Lambda an import from them would
    fail): that is the price of one process, and harmless unless it relied on the failure.
    """
    union = list(dict.fromkeys(folder for folders in paths.values() for folder in folders))
    names = {folder: top_level_names(folder) for folder in union}
    for logical, folders in paths.items():
        for name in sorted(set().union(*(names[f] for f in folders))):
            own, shared = _first(folders, name, names), _first(union, name, names)
            if own != shared:
                return union, (
                    f"{logical} imports module {name!r} from {own}, but in one process {shared} "
                    "(another function's dependencies or layers) comes first; use process isolation"
                )
    return union, None


def already_loaded(logical: str, folders: Sequence[Path]) -> str | None:
    """One warning line naming the modules ``folders`` offer that this process has already loaded from
    elsewhere (the emulator's own boto3, say): thread isolation cannot give the function its copy."""
    names = {folder: top_level_names(folder) for folder in folders}
    shadowed = []
    for name in sorted(set().union(*names.values())):
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        own = _first(folders, name, names)
        if module is not None and where and own is not None and not Path(where).is_relative_to(own):
            shadowed.append(name)
    if not shadowed:
        return None
    return (
        f"{logical}: with thread isolation {', '.join(shadowed)} come from this process's own copy, "
        "not from the function's dependencies or layers"
    )
