"""``wsapp destroy``: delete a deployed stack, streaming its events."""

from __future__ import annotations

import argparse
import sys

from wsapp.cli._aws import add_aws_arguments, connect, say


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_aws_arguments(parser)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the delete")


def run(args: argparse.Namespace) -> int:
    from wsapp.deploy.apply import FAILURES, destroy

    aws = connect(args)
    aws.timeout_seconds = args.timeout
    try:
        destroy(aws, args.stack_name, say)
    except FAILURES as exc:
        print(f"wsapp destroy: {exc}", file=sys.stderr)
        return 1
    return 0
