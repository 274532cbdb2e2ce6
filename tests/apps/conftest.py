"""The look-alike apps' gateway: each test module names its app's ``TEMPLATE`` (and may define a
``gateway_parameters`` fixture for its template's parameters); every test runs once per isolation mode,
on one gateway per module and mode."""

from __future__ import annotations

import pytest

from wsapp.emulator import LocalGateway


@pytest.fixture(scope="module", params=["process", "thread"])
def gw(request):
    parameters = None
    if "gateway_parameters" in request.fixturenames or hasattr(request.module, "gateway_parameters"):
        parameters = request.getfixturevalue("gateway_parameters")
    with LocalGateway(request.module.TEMPLATE, parameters=parameters, isolation=request.param) as gateway:
        yield gateway
