"""``wsapp deploy``: build, plan and apply template.yaml (``--dry-run`` stops after the plan)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wsapp.cli import UsageError, parse_parameters
from wsapp.cli._aws import add_aws_arguments, connect, print_outputs, region_of, say


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_aws_arguments(parser)
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="a template parameter"
    )
    parser.add_argument("--bucket", help="S3 bucket for the code (default: wsapp-artifacts-ACCOUNT-REGION)")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="default: template.yaml")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; make no AWS call")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the stack")


def run(args: argparse.Namespace) -> int:
    from wsapp.deploy.apply import FAILURES, deploy
    from wsapp.deploy.build import Builder
    from wsapp.deploy.package import PackagingError
    from wsapp.deploy.plan import PlanError, checked_template, make_plan
    from wsapp.deploy.targets import build_template

    params = parse_parameters(args.parameter)
    try:
        region = region_of(args)
        checked_template(args.template, params)  # before building: a typo costs no build
        built = build_template(args.template, params, Builder(say=say))
        plan = make_plan(args.template, args.stack_name, params, built, region=region, bucket=args.bucket)
    except (PlanError, PackagingError) as exc:
        raise UsageError(str(exc)) from None
    say(plan.describe())
    if args.dry_run:
        say("dry run: nothing sent to AWS")
        return 0
    aws = connect(args)
    aws.timeout_seconds = args.timeout
    try:
        outputs = deploy(aws, plan, say)
    except FAILURES as exc:
        print(f"wsapp deploy: {exc}", file=sys.stderr)
        return 1
    print_outputs(outputs)
    return 0
