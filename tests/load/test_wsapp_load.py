"""``wsapp load``: Locust's users against the local gateway, the way they run against a deployed stage."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from wsapp.cli import main

pytestmark = pytest.mark.timeout(90)
REPO = Path(__file__).resolve().parents[2]


def test_two_workers_marco_and_broadcast_every_request_answered(repo_gateway, wsapp_load, tmp_path):
    html = tmp_path / "report.html"
    run = wsapp_load(
        repo_gateway.url, f"--users 12 --run-time 4s --workers 2 --think-time 0.05 --html {html}"
    )
    assert run.process.returncode == 0, run
    assert "2 workers connected" in run.process.stderr  # Locust's master saw both worker processes
    names = {("WS", "connect"), ("WS", "marco"), ("WS", "broadcast"), ("RECV", "broadcast")}
    assert set(run.csv_stats) == names | {("", "Aggregated")}  # Locust's own report
    assert set(run.table) == names | {("", "total")}
    assert run.requests("WS", "connect") == 12  # one connection per user, kept for the whole run
    assert run.requests("WS", "marco") > 12
    assert run.requests("WS", "broadcast") > 0
    assert run.requests("RECV", "broadcast") > run.requests("WS", "broadcast")  # each fans out to all
    assert run.failures("", "total") == 0  # every request answered, none timed out, no error frame
    assert run.csv_failures == set() and run.failed == set()
    assert "Locust" in html.read_text()
    lines = run.process.stdout.splitlines()
    assert lines[0] == "12 users"
    assert lines[1].split() == "type name requests failures req/s p50 ms p95 ms p99 ms max ms".split()


def test_a_failing_route_fails_its_requests_with_the_error_frames_text(failing_gateway, wsapp_load):
    # 12 users: Locust's weights (marco 10, broadcast 1) give the broadcast class one of them.
    run = wsapp_load(
        failing_gateway.url, "--users 12 --run-time 3s --workers 2 --think-time 0.1 --reply-timeout 1"
    )
    assert run.process.returncode == 1  # Locust's exit status when a request failed
    errors = {
        ("marco", "ErrorFrame: Internal server error"),  # the function raised: API Gateway's error frame
        ("broadcast", "ReplyTimeout: no reply within 1 s"),  # the route answers nothing
    }
    assert run.failed == errors
    assert run.csv_failures == errors
    assert run.requests("WS", "marco") == run.failures("WS", "marco") > 0
    assert run.failures("WS", "connect") == 0


def test_a_refused_handshake_is_a_failed_connect_with_its_status(repo_gateway, wsapp_load):
    forged = "not-the-gateways-secret-but-long-enough"
    run = wsapp_load(
        repo_gateway.url, f"--users 2 --run-time 2s --workers 0 --scenario marco --secret {forged}"
    )
    assert run.process.returncode == 1
    assert run.failed == {("connect", "HandshakeRefused: HTTP 403")}
    assert run.requests("WS", "connect") == run.failures("WS", "connect") > 0
    assert ("WS", "marco") not in run.table  # nothing was sent without a connection


def test_tokens_from_a_command_are_minted_per_connect(repo_gateway, wsapp_load):
    command = f"{sys.executable} -m wsapp token --sub {{sub}}"  # the local development secret
    run = wsapp_load(
        repo_gateway.url, f"--users 2 --run-time 2s --workers 0 --scenario marco --token-command '{command}'"
    )
    assert run.process.returncode == 0, run
    assert run.requests("WS", "connect") == 2 and run.requests("WS", "marco") > 0
    assert run.failures("", "total") == 0


def test_loglevel_quiets_locusts_own_log_lines_but_not_the_summary(repo_gateway, wsapp_load):
    options = "--users 2 --run-time 2s --workers 0 --scenario marco --loglevel WARNING"
    run = wsapp_load(repo_gateway.url, options)
    assert run.process.returncode == 0, run
    assert "INFO/locust" not in run.process.stderr
    assert run.requests("WS", "marco") > 0 and run.failures("", "total") == 0


def test_a_token_command_that_fails_fails_the_connect_with_its_last_line(repo_gateway, wsapp_load):
    command = "sh -c 'echo no credentials for {sub} >&2; exit 3'"
    run = wsapp_load(
        repo_gateway.url, f'--users 1 --run-time 1s --workers 0 --scenario marco --token-command "{command}"'
    )
    assert run.failed == {("connect", "CannotConnect: token command: no credentials for locust-0-0")}


def test_connections_closed_at_the_duration_cap_are_failures_with_1001_and_users_reconnect(
    capped_gateway, wsapp_load
):
    run = wsapp_load(
        capped_gateway.url, "--users 3 --run-time 4s --workers 0 --scenario marco --think-time 0.2"
    )
    # Closed between requests ("closed") or under one ("marco"): the failure names the close code.
    assert {error for _, error in run.failed} == {"ConnectionClosed: 1001 Going away"}
    assert run.requests("WS", "connect") >= 6  # every user reconnected after each 1.5 s cap
    assert run.failures("WS", "connect") == 0


def test_churn_opens_a_connection_per_cycle(repo_gateway, wsapp_load):
    run = wsapp_load(
        repo_gateway.url, "--users 3 --run-time 3s --workers 0 --scenario churn --think-time 0.1"
    )
    assert run.process.returncode == 0, run
    assert run.requests("WS", "connect") > 3 * 3
    assert run.failures("", "total") == 0


def test_connects_stay_under_the_connect_rate_shared_by_the_workers(repo_gateway, wsapp_load):
    # Churn with no think time would reconnect hundreds of times a second; 4 a second in all are allowed
    # (2 a second per worker), as the 500/s quota is shared.
    run = wsapp_load(
        repo_gateway.url,
        "--users 4 --spawn-rate 4 --connect-rate 4 --run-time 3s --workers 2 --scenario churn --think-time 0",
    )
    assert run.process.returncode == 0, run
    assert 4 <= run.requests("WS", "connect") <= 4 * 3 + 2


def test_a_master_runs_the_users_of_workers_started_apart(repo_gateway, wsapp_load):
    """What scaling out is: ``--master`` here, ``--worker --master-host H`` on each other machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    worker = subprocess.Popen(
        [sys.executable, "-m", "wsapp", "load", "--worker", "--master-port", str(port), "--workers", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        run = wsapp_load(
            repo_gateway.url,
            f"--master --master-port {port} --workers 1 --users 4 --run-time 3s --scenario churn,marco "
            "--think-time 0.1",
        )
        assert worker.wait(timeout=30) == 0  # the master told it to quit at the end of the run
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert run.process.returncode == 0, run
    assert "1 workers connected" in run.process.stderr
    # The worker ran the scenarios the master chose, with the master's options.
    assert run.requests("WS", "connect") > 4 and run.requests("WS", "marco") > 0
    assert run.failures("", "total") == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--spawn-rate", "800"],
            "--spawn-rate 800 is over --connect-rate 500 (API Gateway's new-connection",
        ),
        (["--connect-rate", "50", "--spawn-rate", "60"], "--spawn-rate 60 is over --connect-rate 50"),
        (["--scenario", "marco,flood"], "--scenario takes marco, broadcast, churn; got 'marco,flood'"),
        (["--secret", "short"], "--secret must be at least 32 bytes"),
        (["--worker"], "a --worker takes the URL and the run from its master"),
        (["--ca", "/nonexistent.pem"], "--ca /nonexistent.pem: no such file"),
        (["--users", "0"], "--users must be at least 1"),
        (["--run-time", "ten"], "--run-time takes e.g. 20s, 5m, 1h30m or seconds; got 'ten'"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(argv, message, capsys):
    code = main(["load", "ws://127.0.0.1:9/prod", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"wsapp load: {message}")
    assert err.count("\n") == 1


def test_a_url_that_is_not_a_websocket_url_is_refused(capsys):
    assert main(["load", "http://127.0.0.1:9/prod"]) == 2
    assert capsys.readouterr().err.startswith("wsapp load: give the API's ws:// or wss:// URL")
