from __future__ import annotations

import pytest

from wsapp.testing import load_event


@pytest.fixture
def event():
    """``event("message_marco", body=...)``: a fresh copy of a sample event with overrides merged in."""
    return load_event
