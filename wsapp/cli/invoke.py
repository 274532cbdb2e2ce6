"""``wsapp invoke EVENT.json [EVENT.json ...] [--function NAME]``."""

from __future__ import annotations

import argparse
import json
import sys

from wsapp.cli import UsageError, add_skip_deps, parse_parameters, read_env_vars


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", nargs="+", metavar="EVENT.json", help="event files, run in order")
    parser.add_argument("--function", help="logical id of the function (default: the one the route calls)")
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quiet", action="store_true", help="hide the function's own log lines")
    parser.add_argument("--isolation", choices=("process", "thread"), help="process (default) or thread")
    parser.add_argument("--env-vars", metavar="FILE", help="SAM CLI's --env-vars JSON")
    add_skip_deps(parser)


def run(args: argparse.Namespace) -> int:
    from wsapp.emulator.errors import EmulatorError
    from wsapp.emulator.invoke import invoke, load_events

    try:
        events = load_events(args.events)
        outcomes = invoke(
            args.template,
            events,
            function=args.function,
            parameters=parse_parameters(args.parameter),
            logs=None if args.quiet else sys.stderr,
            isolation=args.isolation,
            env_vars=read_env_vars(args.env_vars),
            install_dependencies=not args.skip_deps,
        )
    except EmulatorError as exc:
        raise UsageError(str(exc)) from None
    failed = False
    for path, outcome in zip(args.events, outcomes, strict=True):
        result = outcome.invocation
        print(f"== {path} → {outcome.function} ({result.duration_ms:.1f} ms)")
        if result.ok:
            print("response:", json.dumps(result.value))
        else:
            failed = True
            print(f"error: {result.error_type}: {result.error_message}")
        for method, connection, body in outcome.posts:
            verb = {"POST": "post", "GET": "get_connection", "DELETE": "delete_connection"}[method]
            print(f"{verb} {connection}" + (f": {body.decode(errors='replace')}" if body else ""))
    return 1 if failed else 0
