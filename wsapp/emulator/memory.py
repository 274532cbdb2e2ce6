"""Keep a long-running gateway's memory close to what it uses (glibc only; elsewhere no-ops).

A gateway's load is bursty: thousands of handshakes, events and SDK calls come and go, and glibc keeps
the memory they freed. Fewer malloc arenas and a periodic trim hand it back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

M_ARENA_MAX = -8


@cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """By default glibc allows 8 arenas per core, and memory freed in one is not reused by threads
    on another: a gateway with many execution-environment threads would hold far more than it uses."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(ctypes.c_int(M_ARENA_MAX), ctypes.c_int(arenas))


def release(collect: bool = True) -> None:
    """Return freed memory to the system (``malloc_trim``), after a garbage collection if asked."""
    if collect:
        gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(ctypes.c_size_t(0))
