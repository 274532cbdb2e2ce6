"""Signed, expiring tokens (JWT, HS256) carried in ``Sec-WebSocket-Protocol``.

Browsers cannot set an Authorization header on a WebSocket, so the client offers the token as a
subprotocol, usually beside the application protocol: ``new WebSocket(url, ["wsapp.v1", token])``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

import jwt

from wsapp.errors import ConfigError, InvalidToken

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm (``none`` included) is rejected
SECRET_ENV = "TOKEN_SECRET"
PROTOCOLS_ENV = "WSAPP_SUBPROTOCOLS"
DEFAULT_PROTOCOLS = ("wsapp.v1",)
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key must be at least as long as the hash output


def secret_from_env(env: Mapping[str, str] = os.environ) -> str:
    secret = env.get(SECRET_ENV, "")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{SECRET_ENV} must be set to a secret of at least {MIN_SECRET_BYTES} bytes")
    return secret


def app_protocols(env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """Subprotocol names that are application protocols, never tokens."""
    raw = env.get(PROTOCOLS_ENV)
    if not raw:
        return DEFAULT_PROTOCOLS
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def issue_token(
    sub: str, *, secret: str, ttl: int = 3600, now: float | None = None, claims: Mapping[str, Any] = ()
) -> str:
    """Mint a token for ``sub`` that expires ``ttl`` seconds from ``now``."""
    if not sub:
        raise ValueError("a token needs a subject")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the secret must be at least {MIN_SECRET_BYTES} bytes")
    issued = int(time.time() if now is None else now)
    payload = {**dict(claims), "sub": sub, "iat": issued, "exp": issued + ttl}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str, now: float | None = None) -> dict[str, Any]:
    """The token's claims; :class:`InvalidToken` for a forged, expired, premature or malformed one."""
    options: dict[str, Any] = {"require": ["exp", "sub"]}
    if now is not None:
        # PyJWT reads the wall clock itself (``iat`` included); with a fixed ``now`` the time claims are
        # checked below instead, as PyJWT checks them.
        options.update(verify_exp=False, verify_nbf=False, verify_iat=False)
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options)
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if now is not None:
        if "iat" in claims and _time_claim(claims, "iat", "InvalidIssuedAtError") > now:
            raise InvalidToken("ImmatureSignatureError")
        if "nbf" in claims and _time_claim(claims, "nbf", "DecodeError") > now:
            raise InvalidToken("ImmatureSignatureError")
        if _time_claim(claims, "exp", "DecodeError") <= now:
            raise InvalidToken("ExpiredSignatureError")
    return claims


def _time_claim(claims: Mapping[str, Any], name: str, malformed: str) -> int:
    try:
        return int(claims[name])
    except (TypeError, ValueError, OverflowError):
        raise InvalidToken(malformed) from None


def split_offer(header: str | None, protocols: Iterable[str]) -> tuple[list[str], str | None]:
    """Split a ``Sec-WebSocket-Protocol`` value into (application protocols offered, token or None).

    The token is the first offered value that is not a known application protocol.
    """
    known = set(protocols)
    offered = [p.strip() for p in (header or "").split(",") if p.strip()]
    apps = [p for p in offered if p in known]
    tokens = [p for p in offered if p not in known]
    return apps, (tokens[0] if tokens else None)


# For local runs only (the emulator, `wsapp token`, the sample events): a deployed stack gets its
# secret from the NoEcho ``TokenSecret`` parameter and never sees this value.
LOCAL_DEV_SECRET = "wsapp-local-development-secret-not-for-aws"
