"""``wsapp`` command line. Each subcommand lives in ``wsapp/cli/<name>.py`` and is imported only when run,
so ``wsapp token`` does not pay for the emulator's imports.

A subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``. Exit status 2 means bad
input or configuration, reported as one clear line on stderr (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "init": "create a project that uses wsapp: template, actions, tests, notebook, CI",
    "token": "mint a signed token for local use",
    "invoke": "run a template function on an event file, in this process",
    "local": "run template.yaml on a local API Gateway WebSocket emulator",
    "connect": "interactive WebSocket client for local and deployed APIs",
    "load": "load-test a local or deployed API with Locust, from one machine or many",
    "deploy": "deploy template.yaml to AWS with CloudFormation",
    "destroy": "delete a deployed stack",
    "outputs": "print a deployed stack's outputs",
    "runtimes": "install and list what functions run on (Node.js: AWS's runtime client, the SDK v3)",
}


class UsageError(Exception):
    """Bad input or configuration: reported as one line, exit status 2."""


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """``--parameter KEY=VALUE`` options as a dict (a value may itself contain ``=``)."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--parameter wants KEY=VALUE, got {pair.split('=')[0]!r}")
        values[key] = value
    return values


def add_lambda_arguments(parser: argparse.ArgumentParser) -> None:
    """How functions run: isolation, concurrency, SAM CLI's --env-vars file."""
    parser.add_argument(
        "--isolation",
        choices=("process", "thread"),
        help="process (default): each execution environment its own process on the Lambda Runtime API; "
        "thread: handlers in threads of this process (faster, functions share sys.modules)",
    )
    parser.add_argument("--concurrency", type=int, default=10, help="execution environments per function")
    parser.add_argument(
        "--env-vars",
        metavar="FILE",
        help='SAM CLI\'s JSON: {"Parameters": {...}, "FunctionId": {...}} (overrides declared variables)',
    )
    add_skip_deps(parser)


def add_skip_deps(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-deps",
        action="store_true",
        help="do not pip/npm install requirements.txt or package.json (installs already in .wsapp/deps "
        "are still used)",
    )


def read_env_vars(path: str | None) -> dict[str, dict[str, str]] | None:
    """``--env-vars FILE`` read, or a usage error naming what is wrong with it."""
    if path is None:
        return None
    from wsapp.emulator.awslambda.environment import read_env_vars_file
    from wsapp.emulator.errors import EmulatorError

    try:
        return read_env_vars_file(path)
    except EmulatorError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top = argparse.ArgumentParser(prog="wsapp", description=__doc__.splitlines()[0])
    subparsers = top.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        top.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    module = importlib.import_module(f"wsapp.cli.{name}")
    parser = argparse.ArgumentParser(prog=f"wsapp {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except UsageError as exc:
        print(f"wsapp {name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
