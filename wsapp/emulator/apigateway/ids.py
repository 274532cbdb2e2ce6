"""Identifiers and time in API Gateway's formats (reference §8), injectable for repeatable output."""

from __future__ import annotations

import base64
import functools
import os
import random
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Ids:
    """16-character ids (URL-safe base64 of 11 bytes) for connections, requests and messages.

    ``seed`` makes every id repeatable run to run, so notebook outputs can be exact.
    """

    def __init__(self, seed: int | None = None) -> None:
        # Ids are opaque, not secrets: a PRNG seeded from the OS is enough, and spares a system call
        # per id on the gateway's hot path (three ids per message).
        self._random = random.Random(seed if seed is not None else os.urandom(16))

    def _bytes(self, n: int) -> bytes:
        return self._random.randbytes(n)

    def __call__(self) -> str:
        return base64.urlsafe_b64encode(self._bytes(11)).decode()

    def api_id(self) -> str:
        """10 lowercase alphanumerics, like ``c5jwxq709g``."""
        alphabet = string.ascii_lowercase + string.digits
        return "".join(alphabet[b % len(alphabet)] for b in self._bytes(10))

    def uuid(self) -> str:
        """A Lambda request id (UUID 4 text)."""
        raw = bytearray(self._bytes(16))
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def trace_id(self, epoch_ms: int) -> str:
        """``Root=1-{8 hex epoch seconds}-{24 hex}``."""
        return f"Root=1-{epoch_ms // 1000:08x}-{self._bytes(12).hex()}"


Clock = Callable[[], int]  # epoch milliseconds


def wall_clock() -> int:
    return time.time_ns() // 1_000_000


class SteppingClock:
    """A clock for repeatable output: starts at ``start_ms`` and advances ``step_ms`` per reading."""

    def __init__(self, start_ms: int = 1_720_517_520_000, step_ms: int = 1) -> None:
        self.now, self.step = start_ms, step_ms

    def __call__(self) -> int:
        value = self.now
        self.now += self.step
        return value


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.lru_cache(maxsize=4)  # every event of the same second shares one string
def _clf(epoch_s: int) -> str:
    t = datetime.fromtimestamp(epoch_s, UTC)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


def request_time(epoch_ms: int) -> str:
    """CLF time in UTC with English month names: ``09/Jul/2024:09:32:00 +0000``."""
    return _clf(epoch_ms // 1000)


def iso8601(epoch_ms: int) -> str:
    """The Management API's timestamps: ISO 8601 UTC with milliseconds and ``Z``."""
    t = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"
