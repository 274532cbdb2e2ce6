"""``wsapp runtimes install nodejs [--dir DIR]`` and ``wsapp runtimes list``.

Python functions run on this interpreter with ``awslambdaric`` (a dependency of wsapp). Node.js
functions need what Lambda's Node.js images hold in ``/var/runtime``: AWS's runtime interface client
(``aws-lambda-ric``, whose native part is compiled on install) and the AWS SDK for JavaScript v3. The
install puts the exact versions of ``runtimes/nodejs/runtime-package.json`` and its lock file into the
Node.js runtime folder (``$WSAPP_NODE_RUNTIME``, else ``~/.cache/wsapp/node-runtime``) with ``npm ci``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from wsapp.cli import UsageError
from wsapp.emulator.awslambda.environment import SDK_V2
from wsapp.emulator.awslambda.launch import NODE_ENTRY, NODE_RUNTIME_VARIABLE, node_runtime_dir

MANIFEST = NODE_ENTRY.parent / "runtime-package.json"
LOCK = NODE_ENTRY.parent / "runtime-package-lock.json"
# Lambda's Node.js 16 and older runtimes provide the AWS SDK for JavaScript v2 instead of v3 [DOC: "Lambda
# runtimes": nodejs16.x "Includes AWS SDK for JavaScript v2"]: kept apart, in SDK_V2, on their NODE_PATH only.
SDK_V2_MANIFEST = NODE_ENTRY.parent / "sdk-v2-package.json"
SDK_V2_LOCK = NODE_ENTRY.parent / "sdk-v2-package-lock.json"
# aws-lambda-ric builds curl and aws-lambda-cpp from source (autoreconf, cmake), then its node-gyp addon.
BUILD_TOOLS = {"autoconf": "autoconf", "automake": "automake", "libtoolize": "libtool", "cmake": "cmake",
               "make": "make", "g++": "g++"}  # fmt: skip
CLIENT = Path("node_modules") / "aws-lambda-ric"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser("install", help="install a runtime's packages (npm; Node.js only)")
    install.add_argument("runtime", choices=("nodejs",), help="the runtime family")
    install.add_argument(
        "--dir",
        help=f"where to install (default: ${NODE_RUNTIME_VARIABLE}, else ~/.cache/wsapp/node-runtime)",
    )
    actions.add_parser("list", help="what each runtime family runs on here")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return list_runtimes()
    return install_nodejs(Path(args.dir).expanduser().resolve() if args.dir else node_runtime_dir())


def missing_build_tools() -> list[str]:
    """The Debian packages of the build tools that are not on PATH."""
    return [package for tool, package in BUILD_TOOLS.items() if shutil.which(tool) is None]


def install_nodejs(target: Path) -> int:
    npm = shutil.which("npm")
    if npm is None:
        raise UsageError(
            "`npm` is not on PATH: install Node.js 20 or later with npm (Debian: apt-get install nodejs npm)"
        )
    if shutil.which("node") is None:
        raise UsageError(
            "`node` is not on PATH: install Node.js 20 or later (Debian: apt-get install nodejs)"
        )
    missing = missing_build_tools()
    if missing:
        raise UsageError(
            "building aws-lambda-ric needs autoconf automake libtool cmake make g++; missing: "
            f"{' '.join(missing)} (Debian: apt-get install {' '.join(missing)})"
        )
    v2 = target / SDK_V2
    try:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MANIFEST, target / "package.json")
        shutil.copyfile(LOCK, target / "package-lock.json")
        v2.mkdir(exist_ok=True)
        shutil.copyfile(SDK_V2_MANIFEST, v2 / "package.json")
        shutil.copyfile(SDK_V2_LOCK, v2 / "package-lock.json")
    except OSError as exc:
        raise UsageError(f"cannot write to {target}: {exc.strerror}") from None
    print(
        f"installing aws-lambda-ric and the AWS SDK for JavaScript v3 (and v2) into {target} "
        "(npm ci; aws-lambda-ric compiles native code, about two minutes) ...",
        flush=True,
    )
    started = time.monotonic()
    # The client's install scripts build its native part: they must run (npm may be told to skip them).
    command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts=false"]
    done = subprocess.run(command, cwd=target, stdout=sys.stderr, check=False)
    if done.returncode != 0:
        status = done.returncode
        print(f"wsapp runtimes: npm ci failed (exit status {status}); its output is above", file=sys.stderr)
        return 1
    if not (target / CLIENT / "dist" / "rapid-client.node").is_file():
        print(
            "wsapp runtimes: npm installed aws-lambda-ric without building its native part "
            "(dist/rapid-client.node); were its install scripts blocked?",
            file=sys.stderr,
        )
        return 1
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=v2, stdout=sys.stderr, check=False)
    if done.returncode != 0:
        print(f"wsapp runtimes: npm ci of the SDK v2 failed (exit status {done.returncode})", file=sys.stderr)
        return 1
    print(f"installed in {time.monotonic() - started:.0f} s: {target}")
    if target != node_runtime_dir():
        print(f"functions find it with {NODE_RUNTIME_VARIABLE}={target}")
    return 0


def installed_client(folder: Path) -> str | None:
    """The version of aws-lambda-ric installed in ``folder``, or None."""
    try:
        manifest = json.loads((folder / CLIENT / "package.json").read_text())
    except (OSError, ValueError):
        return None
    if not (folder / CLIENT / "dist" / "index.mjs").is_file():
        return None
    return str(manifest.get("version", "unknown"))


def list_runtimes() -> int:
    python = ".".join(map(str, sys.version_info[:3]))
    try:
        ric = f"awslambdaric {importlib.metadata.version('awslambdaric')}"
    except importlib.metadata.PackageNotFoundError:
        ric = "awslambdaric not installed"
    print(f"python  {python} ({sys.executable}), {ric}")
    node = shutil.which("node")
    folder = node_runtime_dir()
    if node is None:
        print("nodejs  not installed: `node` is not on PATH")
        return 0
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    client = installed_client(folder)
    if client is None:
        where = f"not installed in {folder}: run `wsapp runtimes install nodejs`"
    else:
        where = f"aws-lambda-ric {client} in {folder}"
    print(f"nodejs  {version} ({node}), {where}")
    return 0
