"""``wsapp init DIR [--name N]``: a new project that uses wsapp as a library."""

from __future__ import annotations

import argparse
from pathlib import Path

from wsapp.cli import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, metavar="DIR", help="the project's folder (new or empty)")
    parser.add_argument(
        "--name", help="the project's Python package, named in WSAPP_ACTIONS (default: from DIR's name)"
    )


def run(args: argparse.Namespace) -> int:
    from wsapp.scaffold import ScaffoldError, create, package_name

    try:
        package = package_name(args.dir, args.name)
        written = create(args.dir, package)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or args.dir}: {exc.strerror}") from None
    print(f"created {args.dir} ({len(written)} files); the actions are in src/{package}/actions.py")
    print(f"next: cd {args.dir} && pytest && wsapp local")
    return 0
