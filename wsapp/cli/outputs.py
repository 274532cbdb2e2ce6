"""``wsapp outputs``: a deployed stack's outputs (the wss:// URL, the @connections URL, …)."""

from __future__ import annotations

import argparse
import sys

from wsapp.cli._aws import add_aws_arguments, connect, print_outputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_aws_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from wsapp.deploy.apply import FAILURES, outputs

    try:
        print_outputs(outputs(connect(args), args.stack_name))
    except FAILURES as exc:
        print(f"wsapp outputs: {exc}", file=sys.stderr)
        return 1
    return 0
