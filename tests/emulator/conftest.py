"""Fixtures for the emulator suite: gateways are started once per session (or module) and shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from emukit import Captured, management, write_lab

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import Limits, LocalGateway

REPO = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="session")
def repo_gateway():
    """This repository's template.yaml with wsapp's real handlers (and its embedded DynamoDB table)."""
    with LocalGateway(REPO / "template.yaml") as gw:
        yield gw


@pytest.fixture(scope="session")
def repo_management(repo_gateway):
    return management(repo_gateway)


@pytest.fixture
def alice_token() -> str:
    return issue_token("alice", secret=LOCAL_DEV_SECRET)
