"""The look-alike apps' gateway: each test module names its app's ``TEMPLATE``; every test runs once per
isolation mode, on one gateway per module and mode."""

from __future__ import annotations

import pytest

from wsapp.emulator import LocalGateway


@pytest.fixture(scope="module", params=["process", "thread"])
def gw(request):
    with LocalGateway(request.module.TEMPLATE, isolation=request.param) as gateway:
        yield gateway
