"""wsapp's Locust options, tokens and connect pacing: what every user process needs before it connects.

The options are Locust command-line arguments (``--wsapp-…``), so a master passes them to its workers
with each spawn message. The token secret is not one of them: each process reads it from its own
environment (``$WSAPP_TOKEN_SECRET``, ``$TOKEN_SECRET``, else the local development secret, as
``wsapp token`` does), so it is neither on a command line nor on the wire to the workers.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from wsapp.auth import MIN_SECRET_BYTES, issue_token
from wsapp.cli.token import resolve_secret
from wsapp.locust import CONNECT_QUOTA
from wsapp.locust.frames import CannotConnect

TOKEN_TTL = 4 * 3600  # a token is minted per connect; it only has to outlive the handshake
DEFAULTS: dict[str, Any] = {
    "wsapp_token_command": "",
    "wsapp_connect_rate": CONNECT_QUOTA,
    "wsapp_think_time": 1.0,
    "wsapp_reply_timeout": 10.0,
    "wsapp_connect_timeout": 10.0,
    "wsapp_ca": "",
    "wsapp_summary": "",
}


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("wsapp", "WebSocket APIs on API Gateway (wsapp.locust)")
    group.add_argument(
        "--wsapp-token-command",
        default=DEFAULTS["wsapp_token_command"],
        help="a command that prints a token for the subject {sub} (e.g. 'wsapp token --sub {sub}'); "
        "default: tokens signed with $WSAPP_TOKEN_SECRET, $TOKEN_SECRET or the local development secret",
    )
    group.add_argument(
        "--wsapp-connect-rate",
        type=float,
        default=CONNECT_QUOTA,
        help="new connections per second for the whole run, shared by the workers (default: API "
        "Gateway's quota of 500 per account and Region); 0: no limit",
    )
    group.add_argument(
        "--wsapp-think-time",
        type=float,
        default=DEFAULTS["wsapp_think_time"],
        help="seconds each user waits between requests",
    )
    group.add_argument(
        "--wsapp-reply-timeout",
        type=float,
        default=DEFAULTS["wsapp_reply_timeout"],
        help="seconds a request waits for its reply before it fails",
    )
    group.add_argument(
        "--wsapp-connect-timeout",
        type=float,
        default=DEFAULTS["wsapp_connect_timeout"],
        help="seconds a handshake may take",
    )
    group.add_argument("--wsapp-ca", default="", help="a CA certificate to trust for wss:// (PEM)")
    # On Locust's parser itself: only there do options take include_in_web_ui.
    parser.add_argument(
        "--wsapp-summary", default="", include_in_web_ui=False, help="write the final statistics here (JSON)"
    )


def option(environment: Environment, name: str) -> Any:
    """An option's value; its default when Locust runs without a command line (as a library)."""
    parsed = environment.parsed_options
    return getattr(parsed, name, DEFAULTS[name]) if parsed is not None else DEFAULTS[name]


def mint_token(environment: Environment, sub: str) -> str:
    """A token for ``sub``: from ``--wsapp-token-command``, else signed with this process's secret."""
    command = option(environment, "wsapp_token_command")
    if command:
        return _token_from_command(command, sub)
    secret, source = resolve_secret(None)
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise CannotConnect(f"the secret from {source} is shorter than {MIN_SECRET_BYTES} bytes")
    return issue_token(sub, secret=secret, ttl=TOKEN_TTL)


def _token_from_command(command: str, sub: str) -> str:
    argv = [part.replace("{sub}", sub) for part in shlex.split(command)]
    try:
        # gevent's subprocess: the other users keep running while the command does.
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CannotConnect(f"token command: {type(exc).__name__}: {exc}") from None
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}, no token"])[-1]
        raise CannotConnect(f"token command: {last}")
    return token


class ConnectPacer:
    """Spaces this process's connects so that the whole run stays within ``--wsapp-connect-rate``.

    Locust's spawn rate paces users starting, not reconnects (churn, the 2-hour cap's 1001 closes);
    this paces every connect. Each worker takes an equal share (the master tells its workers how many
    it expects). One process, one event loop: no yield between reading and moving the next slot.
    """

    def __init__(self) -> None:
        self._next = 0.0

    def wait(self, environment: Environment) -> None:
        rate = float(option(environment, "wsapp_connect_rate"))
        if rate <= 0:
            return
        if isinstance(environment.runner, WorkerRunner):
            rate /= max(1, int(getattr(environment.parsed_options, "expect_workers", 1) or 1))
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + 1 / rate
        if slot > now:
            gevent.sleep(slot - now)


pacer = ConnectPacer()
