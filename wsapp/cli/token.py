"""``wsapp token``: mint a signed token (JWT, HS256) to offer in ``Sec-WebSocket-Protocol``.

The secret comes from ``--secret``, else ``$WSAPP_TOKEN_SECRET``, else ``$TOKEN_SECRET`` (the variable the
authorizer reads), else the local development secret the emulator uses by default. It is never printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from wsapp.auth import LOCAL_DEV_SECRET, MIN_SECRET_BYTES, SECRET_ENV, issue_token
from wsapp.cli import UsageError

SECRET_ENVS = ("WSAPP_TOKEN_SECRET", SECRET_ENV)  # in order of precedence, after --secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sub", required=True, help="the subject (principalId) the token names")
    parser.add_argument(
        "--ttl", type=int, default=3600, help="seconds until the token expires (default: %(default)s)"
    )
    parser.add_argument(
        "--secret",
        help=f"HS256 secret, at least {MIN_SECRET_BYTES} bytes (default: ${SECRET_ENVS[0]}, "
        f"${SECRET_ENVS[1]}, else the local development secret)",
    )


def resolve_secret(explicit: str | None, env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(secret, where it came from); an empty environment variable counts as unset."""
    if explicit is not None:
        return explicit, "--secret"
    for name in SECRET_ENVS:
        if env.get(name):
            return env[name], f"${name}"
    return LOCAL_DEV_SECRET, "the local development secret"


def run(args: argparse.Namespace) -> int:
    if not args.sub.strip():
        raise UsageError("--sub must name a subject, not be empty.")
    if args.ttl <= 0:
        raise UsageError("--ttl must be a positive number of seconds.")
    secret, source = resolve_secret(args.secret)
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise UsageError(
            f"the secret from {source} is {size} bytes; HS256 needs at least {MIN_SECRET_BYTES}."
        )
    print(issue_token(args.sub, secret=secret, ttl=args.ttl))
    return 0
