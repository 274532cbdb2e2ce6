"""Fixtures for the emulator suite: gateways are started once per session (or module) and shared.

This repository's template.yaml with wsapp's own handlers is the plugin's ``local_gateway`` (template.yaml
in the rootdir), with ``ws_connect``, ``wsapp_token`` and ``management_client`` beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from emukit import Captured, management, write_lab

from wsapp.emulator import Limits, LocalGateway


@pytest.fixture(scope="session")
def lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="session")
def lab(lab_template: Path):
    """The lab API: a custom template whose handlers behave as the query string and route key say."""
    limits = Limits(authorizer_timeout=0.3, connect_rate=0)
    with LocalGateway(lab_template, limits=limits) as gw:
        yield gw


@pytest.fixture(scope="session")
def captured(lab_template: Path) -> Captured:
    return Captured(lab_template.parent / "events.jsonl")


@pytest.fixture(scope="session")
def lab_management(lab):
    return management(lab)
