"""``wsapp.loadgen`` against the real local gateway (template.yaml), with a handful of clients."""

from __future__ import annotations

import math
import time

import pytest

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import LocalGateway
from wsapp.loadgen import MAX_CLIENTS, Clients, LoadReport, RoundTrip, run, run_load
from wsapp.testing import TEMPLATE

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def gateway():
    with LocalGateway(TEMPLATE, seed=1) as gw:
        yield gw


def test_every_marco_is_answered_polo(gateway):
    report = run(gateway.url, clients=3, duration=0.5)
    assert report.errors == ()
    assert report.connected == 3
    assert report.sent > 3
    assert report.every_message_answered
    assert {rt.client for rt in report.round_trips} == {0, 1, 2}
    assert all(rt.latency > 0 for rt in report.round_trips)
    assert report.throughput > 0
    assert 0.5 <= report.duration < 5
    assert report.summary() == {"clients": 3, "connected": 3, "every message answered": True, "errors": 0}


async def test_round_trips_per_client_are_bounded(gateway):
    report = await run_load(gateway.url, clients=2, duration=30, max_round_trips=3)
    assert (report.sent, report.answered, report.errors) == (6, 6, ())
    assert report.duration < 10  # the count ended the run, not the duration


def test_the_clients_connections_are_closed_and_disconnected(gateway):
    before = set(gateway.connection_ids)
    run(gateway.url, clients=2, duration=0.2)
    deadline = time.monotonic() + 5
    while set(gateway.connection_ids) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    # None of the load's connections is left (an earlier test's may close meanwhile: only new ids count).
    assert set(gateway.connection_ids) - before == set()


def test_a_rejected_handshake_is_an_error_line_not_an_exception(gateway):
    forged = issue_token("mallory", secret="x" * 32)
    report = run(gateway.url, clients=2, duration=0.2, token_for=lambda i: forged)
    assert report.connected == 0
    assert report.sent == 0
    assert not report.every_message_answered
    assert report.error_counts() == {"handshake rejected: HTTP 403": 2}


async def test_clients_keep_their_connections_from_one_run_to_the_next(gateway):
    before = set(gateway.connection_ids)
    async with Clients(gateway.url, clients=2) as fleet:
        first = await fleet.play(0.3)
        mine = set(gateway.connection_ids) - before
        second = await fleet.play(0.3)
        assert set(gateway.connection_ids) - before == mine  # no new handshake for the second run
    assert len(mine) == 2
    for report in (first, second):
        assert (report.connected, report.errors) == (2, ())
        assert report.every_message_answered and {rt.client for rt in report.round_trips} == {0, 1}
        assert 0.3 <= report.duration < 3


async def test_a_client_that_fails_a_run_is_left_out_of_the_next(gateway):
    tokens = [issue_token("alice", secret=LOCAL_DEV_SECRET), issue_token("mallory", secret="x" * 32)]
    async with Clients(gateway.url, clients=2, token_for=tokens.__getitem__) as fleet:
        assert fleet.connected == 1
        refused = await fleet.play(0.2)
        assert refused.error_counts() == {"handshake rejected: HTTP 403": 1}  # told once, by the first run
        timed_out = await fleet.play(0.2, expect="never-sent", reply_timeout=0.3)
        assert timed_out.errors == ("no never-sent within 0.3 s",) and fleet.connected == 0
        nobody = await fleet.play(0.2)
    assert (nobody.connected, nobody.sent, nobody.errors) == (0, 0, ())


def test_a_missing_reply_times_out_as_an_error(gateway):
    report = run(gateway.url, clients=1, duration=0.2, expect="never-sent", reply_timeout=0.3)
    assert report.sent == 1
    assert report.answered == 0
    assert report.errors == ("no never-sent within 0.3 s",)


def test_an_unreachable_url_is_reported(gateway):
    report = run("ws://127.0.0.1:9/nothing", clients=1, duration=0.2, connect_timeout=2)
    assert report.connected == 0
    assert len(report.errors) == 1
    assert report.errors[0].startswith("cannot connect: ")


@pytest.mark.parametrize(
    "options",
    [
        {"clients": 0},
        {"clients": MAX_CLIENTS + 1},
        {"duration": 0},
        {"duration": 10_000},
        {"max_round_trips": 0},
        {"reply_timeout": 0},
    ],
)
def test_out_of_bounds_options_are_refused(options):
    with pytest.raises(ValueError):
        run("ws://127.0.0.1:9/unused", **options)


def test_report_statistics():
    trips = tuple(RoundTrip(0, sent_at=i * 0.1, latency=(i + 1) / 100) for i in range(10))
    report = LoadReport(clients=1, connected=1, duration=1.0, sent=10, round_trips=trips)
    assert report.latencies == pytest.approx([0.01 * (i + 1) for i in range(10)])
    assert report.percentile(50) == pytest.approx(0.05)
    assert report.percentile(100) == pytest.approx(0.10)
    assert report.percentile(0) == pytest.approx(0.01)
    assert report.throughput == 10
    starts, rates = report.throughput_series(0.5)
    assert starts == [0.0, 0.5]
    assert sum(rates) * 0.5 == 10
    assert math.isnan(LoadReport(1, 0, 1.0, 0, ()).percentile(50))
    with pytest.raises(ValueError):
        report.percentile(101)
    with pytest.raises(ValueError):
        report.throughput_series(0)
