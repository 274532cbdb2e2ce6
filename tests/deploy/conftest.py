"""MiniStack, a local AWS emulator with CloudFormation, ApiGatewayV2 and the SAM transform.

The venv cache under .wsapp/, the free port and the bounded start live in wsapp.deploy.rehearsal,
shared with notebook 05; here they become session fixtures, and a venv that cannot be installed
(no PyPI) skips the tests that need it.
"""

from __future__ import annotations

import pytest

from wsapp.deploy.rehearsal import (
    MiniStackFailed,
    MiniStackUnavailable,
    cached_venv,
    local_credentials,
)
from wsapp.deploy.rehearsal import ministack as run_ministack


def _venv_or_skip(name: str, requirements: list[str], *, timeout: float = 600):
    """:func:`cached_venv`, skipping the test when the venv cannot be installed."""
    try:
        return cached_venv(name, requirements, timeout=timeout)
    except MiniStackUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def venv_factory():
    """:func:`cached_venv` for test modules (conftest is not importable by name)."""
    return _venv_or_skip


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory):
    """The endpoint URL of a MiniStack server that lives for the test session."""
    try:
        with run_ministack(log_dir=tmp_path_factory.mktemp("ministack")) as url:
            yield url
    except MiniStackUnavailable as exc:
        pytest.skip(str(exc))
    except MiniStackFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture
def fake_aws():
    """Credentials MiniStack accepts, and no profile or config file of the user's (restored after)."""
    with local_credentials():
        yield
