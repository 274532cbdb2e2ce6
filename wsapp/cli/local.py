"""``wsapp local``: serve template.yaml's WebSocket API on a local API Gateway emulator."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from wsapp.cli import UsageError, add_lambda_arguments, parse_parameters, read_env_vars


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--debug", action="store_true", help="no timeouts, one environment per function, breakpoint() works"
    )
    parser.add_argument(
        "--debug-port", type=int, metavar="N", help="start the function under debugpy on 127.0.0.1:N"
    )
    parser.add_argument("--debug-function", metavar="ID", help="the function --debug-port applies to")
    add_lambda_arguments(parser)
    parser.add_argument("--seed", type=int, help="repeatable connection and request ids")
    parser.add_argument("--idle-timeout", type=float, help="seconds (API Gateway: 600)")
    parser.add_argument("--max-duration", type=float, help="seconds (API Gateway: 7200)")
    parser.add_argument(
        "--connect-rate",
        type=float,
        help="new connections per second before 429 (API Gateway's quota: 500; 0 = no limit)",
    )
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--quiet", action="store_true", help="do not print function logs")
    parser.add_argument(
        "--credentials",
        metavar="KEY:SECRET",
        help="@connections callers must sign with these (default: any SigV4 signature)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve wss:// and https:// with a local CA's certificate (kept in $WSAPP_TLS_DIR, "
        "default ~/.local/share/wsapp/tls); the banner names the CA file to trust",
    )
    parser.add_argument(
        "--no-inspector",
        action="store_true",
        help="do not serve the inspector (every frame, event, invocation and post, live in a browser)",
    )
    parser.add_argument(
        "--inspector-port",
        type=int,
        default=0,
        metavar="N",
        help="the inspector's port (default: any free one)",
    )
    parser.add_argument(
        "--inspector-entries",
        type=int,
        default=2000,
        metavar="N",
        help="how many of the latest frames, invocations and posts the inspector keeps (default 2000)",
    )
    parser.add_argument(
        "--no-inprocess-sdk",
        action="store_true",
        help="send the functions' @connections and DynamoDB calls over HTTP too",
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from wsapp.emulator import Account, EmulatorError, Limits, LocalGateway
    from wsapp.emulator.gateway import print_banner

    limits = Limits()
    if args.idle_timeout is not None:
        limits = replace(limits, idle_timeout=args.idle_timeout)
    if args.max_duration is not None:
        limits = replace(limits, max_duration=args.max_duration)
    if args.connect_rate is not None:
        limits = replace(limits, connect_rate=args.connect_rate)
    if args.inspector_entries < 1:
        raise UsageError("--inspector-entries must be at least 1")
    credentials = None
    env_vars = read_env_vars(args.env_vars)
    if args.credentials:
        key, sep, secret = args.credentials.partition(":")
        if not sep or not key or not secret:
            raise UsageError("--credentials must be ACCESS_KEY_ID:SECRET_ACCESS_KEY")
        credentials = (key, secret)
    gateway = LocalGateway(
        args.template,
        parameters=parse_parameters(args.parameter),
        host=args.host,
        port=args.port,
        limits=limits,
        account=Account(region=args.region),
        seed=args.seed,
        concurrency=args.concurrency,
        debug=args.debug,
        logs=None if args.quiet else sys.stdout,
        credentials=credentials,
        inprocess_sdk=not args.no_inprocess_sdk,
        isolation=args.isolation,
        debug_port=args.debug_port,
        debug_function=args.debug_function,
        env_vars=env_vars,
        tls=args.tls,
        install_dependencies=not args.skip_deps,
        isolated_translation=True,  # a long-running server: the translator need not stay resident
        log_lines=0,  # printed (or, with --quiet, dropped): nobody reads gateway.logs here
        inspector=not args.no_inspector,
        inspector_port=args.inspector_port,
        inspector_entries=args.inspector_entries,
    )
    try:
        gateway.start()
    except EmulatorError as exc:
        raise UsageError(str(exc)) from None
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
        print_banner(gateway)
        threading.Event().wait()  # until Ctrl-C or SIGTERM
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        signal.signal(signal.SIGTERM, _ignore)  # the shutdown runs to its end
        gateway.stop()
    return 0


class _Terminated(Exception):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt, so the gateway stops."""


def _on_sigterm(signum: int, frame: object) -> None:
    # Raise once and ignore any later SIGTERM, which must not interrupt the shutdown. (A handler that
    # set a threading.Event deadlocked when a second SIGTERM arrived while the first handler held the
    # Event's lock: the nested handler waited for a lock its own thread held.)
    signal.signal(signal.SIGTERM, _ignore)
    raise _Terminated


def _ignore(signum: int, frame: object) -> None:
    """A Python-level no-op (not SIG_IGN, which processes started from here would inherit)."""
