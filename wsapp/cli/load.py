"""``wsapp load URL``: Locust users against the WebSocket API, local or deployed, from one machine or many.

Runs our locustfile (``wsapp/locust/locustfile.py``: marco/polo, broadcast, connect churn) in Locust
subprocesses (``python -m locust``), so gevent's monkey-patching never enters this process: headless by
default, with ``--workers K`` worker processes on this machine (every core by default); ``--master``
waits for ``--workers K`` workers started elsewhere with ``wsapp load --worker --master-host H``.
Prints a summary table from the run's final statistics; ``--csv PREFIX`` and ``--html FILE`` keep
Locust's own reports, ``--web`` runs Locust's web UI instead of a headless run.

Connects are paced under ``--connect-rate`` (default 500 a second): API Gateway's quota is "New
connections per second per account (across all WebSocket APIs) per Region: 500", and a connect over
it is refused. The spawn rate (users started a second) may not exceed it either.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from wsapp.auth import MIN_SECRET_BYTES
from wsapp.cli import UsageError
from wsapp.cli._load_report import print_summary
from wsapp.locust import CONNECT_QUOTA, LOCUSTFILE, SCENARIOS  # names only: no Locust, no gevent here

SUMMARY = "summary.json"  # written by wsapp.locust.summary in the Locust process
RUN_TIME = re.compile(r"\d+|(?=\d)(\d+h)?(\d+m)?(\d+s)?")  # what Locust's parse_timespan takes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", nargs="?", help="ws:// or wss:// URL (a worker takes its master's)")
    parser.add_argument("-u", "--users", type=int, default=10, help="concurrent users, one connection each")
    parser.add_argument(
        "-r", "--spawn-rate", type=float, help="users started a second (default: all at once, up to 100)"
    )
    parser.add_argument("-t", "--run-time", default="1m", help="e.g. 20s, 5m, 1h30m (default: %(default)s)")
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes: on this machine (default: one per core; 0: a single process), or with "
        "--master how many to wait for, or with --worker how many to start here",
    )
    parser.add_argument(
        "--scenario",
        default="marco,broadcast",
        help=f"comma-separated, from {', '.join(SCENARIOS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--think-time",
        type=float,
        default=1.0,
        help="seconds between a user's requests (default: %(default)s)",
    )
    parser.add_argument(
        "--reply-timeout", type=float, default=10.0, help="seconds a reply may take (default: %(default)s)"
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds a handshake may take, cold starts of the authorizer and $connect included "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--connect-rate",
        type=float,
        default=CONNECT_QUOTA,
        help="new connections a second for the whole run (default: API Gateway's quota, 500 per account "
        "and Region, across all WebSocket APIs); raise it to your account's quota, 0 for no limit",
    )
    parser.add_argument(
        "--secret", help="HS256 secret the tokens are signed with (default: as `wsapp token`)"
    )
    parser.add_argument(
        "--token-command", metavar="CMD", help="prints a token for the subject {sub}, run for every connect"
    )
    parser.add_argument("--ca", metavar="PEM", help="trust this CA certificate for wss://")
    parser.add_argument("--csv", metavar="PREFIX", help="keep Locust's CSV reports: PREFIX_stats.csv ...")
    parser.add_argument("--html", metavar="FILE", help="write Locust's HTML report")
    parser.add_argument(
        "--loglevel", default="INFO", help="Locust's own log lines: INFO, WARNING... (default: %(default)s)"
    )
    parser.add_argument(
        "--web", action="store_true", help="Locust's web UI on http://127.0.0.1:8089 instead of headless"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--master", action="store_true", help="be the master for workers on other machines")
    mode.add_argument("--worker", action="store_true", help="be a worker for --master-host")
    parser.add_argument("--master-host", default="127.0.0.1", help="the master a worker connects to")
    parser.add_argument("--master-port", type=int, default=5557, help="the master's port (default: 5557)")


def locust_command(args: argparse.Namespace, scratch: Path) -> list[str]:
    """The ``python -m locust`` command line the options ask for."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    if args.worker:  # every scenario: the master says which users to run, and with which options
        command += ["--worker", "--master-host", args.master_host, "--master-port", str(args.master_port)]
        command += ["--loglevel", args.loglevel]
        return command + (["--processes", str(workers)] if workers > 1 else [])
    command += [SCENARIOS[name] for name in _scenarios(args.scenario)]
    command += ["--host", args.url, "--users", str(args.users), "--spawn-rate", f"{spawn_rate(args):g}"]
    command += ["--run-time", args.run_time, "--wsapp-summary", str(scratch / SUMMARY), "--only-summary"]
    # Given a JSON file to write, Locust does not log its own final tables (ours are printed instead).
    command += ["--json-file", str(scratch / "locust")]
    if args.web:
        command += ["--web-host", "127.0.0.1"]
    else:
        command += ["--headless"]
    if args.master:
        command += ["--master", "--master-bind-port", str(args.master_port)]
        command += ["--expect-workers", str(max(1, workers))]
    elif workers > 0:
        command += ["--processes", str(workers)]
    command += ["--loglevel", args.loglevel]
    if args.csv:
        command += ["--csv", args.csv]
    if args.html:
        command += ["--html", args.html]
    for option in ("think_time", "reply_timeout", "connect_rate", "connect_timeout"):
        command += [f"--wsapp-{option.replace('_', '-')}", f"{getattr(args, option):g}"]
    if args.token_command:
        command += ["--wsapp-token-command", args.token_command]
    if args.ca:
        command += ["--wsapp-ca", args.ca]
    return command


def check(args: argparse.Namespace) -> None:
    if importlib.util.find_spec("locust") is None:
        raise UsageError("Locust is not installed: pip install 'wsapp[load]'")
    _scenarios(args.scenario)
    if not args.worker:
        if not args.url or urlsplit(args.url).scheme not in ("ws", "wss"):
            raise UsageError("give the API's ws:// or wss:// URL (e.g. the stack's WebSocketURL output)")
        if not RUN_TIME.fullmatch(args.run_time):
            raise UsageError(f"--run-time takes e.g. 20s, 5m, 1h30m or seconds; got {args.run_time!r}")
        if args.users < 1:
            raise UsageError("--users must be at least 1")
        if args.spawn_rate is not None and args.spawn_rate <= 0:
            raise UsageError("--spawn-rate must be positive")
        if args.connect_rate > 0 and spawn_rate(args) > args.connect_rate:
            raise UsageError(
                f"--spawn-rate {spawn_rate(args):g} is over --connect-rate {args.connect_rate:g} (API "
                "Gateway's new-connection quota); raise --connect-rate to your account's quota, "
                "or 0 for no limit"
            )
    elif args.url or args.web:
        raise UsageError("a --worker takes the URL and the run from its master: no URL, no --web")
    if args.workers is not None and args.workers < 0:
        raise UsageError("--workers must be 0 or more")
    if args.connect_rate < 0 or args.think_time < 0 or min(args.reply_timeout, args.connect_timeout) <= 0:
        raise UsageError(
            "--connect-rate and --think-time must be 0 or more, "
            "--reply-timeout and --connect-timeout positive"
        )
    if args.secret is not None and len(args.secret.encode()) < MIN_SECRET_BYTES:
        raise UsageError(f"--secret must be at least {MIN_SECRET_BYTES} bytes")
    if args.ca and not Path(args.ca).is_file():
        raise UsageError(f"--ca {args.ca}: no such file")


def spawn_rate(args: argparse.Namespace) -> float:
    """--spawn-rate, else every user at once: up to 100 a second and within the connect rate."""
    if args.spawn_rate is not None:
        return float(args.spawn_rate)
    return float(min(args.users, 100, args.connect_rate or 100))


def _scenarios(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise UsageError(f"--scenario takes {', '.join(SCENARIOS)}; got {text!r}")
    return names


def run(args: argparse.Namespace) -> int:
    check(args)
    env = dict(os.environ)
    if args.secret is not None:
        env["WSAPP_TOKEN_SECRET"] = args.secret  # read by every Locust process, never on a command line
    with tempfile.TemporaryDirectory(prefix="wsapp-load-") as scratch:
        command = locust_command(args, Path(scratch))
        if args.web:
            print("Locust's web UI: http://127.0.0.1:8089 (Ctrl-C ends the run)", flush=True)
        process = subprocess.Popen(command, env=env)
        # A SIGTERM for us is one for Locust (it stops the run and writes its reports); Ctrl-C reaches
        # both already, and Locust is given the time to finish the same way.
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            code = process.wait()
        except KeyboardInterrupt:
            code = process.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
        if not args.worker:
            print_summary(Path(scratch) / SUMMARY, users=args.users)
    return code
