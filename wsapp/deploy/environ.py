"""The process environment changed for the length of a block, and put back as it was afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


def _apply(values: Mapping[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def overridden(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set each variable of ``values`` (None: unset it) until the block ends; then restore them all."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(saved)
