"""``wsapp load`` against local gateways: Locust runs in subprocesses, as it does for users."""

# ruff: noqa: E501 - the template is text, kept on readable lines

from __future__ import annotations

import csv
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from wsapp.emulator import Limits, LocalGateway

REPO = Path(__file__).resolve().parents[2]

# An API whose marco route fails (the function raises: API Gateway's "Internal server error" frame) and
# whose broadcast route never answers. $connect picks wsapp.v1, as a client offering it expects.
FAILING_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: failing
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: "$request.body.action"
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: prod, AutoDeploy: true}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, CodeUri: ., Handler: failing_app.handler, Timeout: 3}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
"""
ROUTES = {"Connect": "$connect", "Disconnect": "$disconnect", "Marco": "marco", "Broadcast": "broadcast"}
FAILING_APP = """\
def handler(event, context):
    key = event["requestContext"]["routeKey"]
    if key == "$connect":
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "wsapp.v1"}}
    if key == "marco":
        raise RuntimeError("marco is broken on purpose")
    return {"statusCode": 200}
"""


def write_failing_app(folder: Path) -> Path:
    routes = "".join(
        f"""\
  {name}Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {{ApiId: !Ref Api, RouteKey: "{key}", Target: !Join ["/", [integrations, !Ref Integration]]}}
"""
        for name, key in ROUTES.items()
    )
    (folder / "template.yaml").write_text(FAILING_TEMPLATE + routes)
    (folder / "failing_app.py").write_text(FAILING_APP)
    return folder / "template.yaml"


@pytest.fixture(scope="session")
def repo_gateway():
    """This repository's template.yaml with wsapp's real handlers and its DynamoDB connection store."""
    with LocalGateway(REPO / "template.yaml") as gw:
        yield gw


@pytest.fixture(scope="session")
def failing_gateway(tmp_path_factory: pytest.TempPathFactory):
    with LocalGateway(write_failing_app(tmp_path_factory.mktemp("failing"))) as gw:
        yield gw


@pytest.fixture(scope="session")
def capped_gateway():
    """The repository's API with connections capped at 1.5 s (API Gateway's cap is 2 hours)."""
    with LocalGateway(REPO / "template.yaml", limits=Limits(max_duration=1.5)) as gw:
        yield gw


@dataclass
class LoadRun:
    process: subprocess.CompletedProcess[str]
    csv_stats: dict[tuple[str, str], dict[str, str]]  # Locust's PREFIX_stats.csv: (type, name) → row
    csv_failures: set[tuple[str, str]]  # Locust's PREFIX_failures.csv: (name, error)

    def __str__(self) -> str:
        """For assertion messages: our summary, then the end of Locust's log."""
        return f"{self.process.stdout}\n{self.process.stderr[-2000:]}"

    @property
    def table(self) -> dict[tuple[str, str], tuple[int, int]]:
        """The summary ``wsapp load`` printed (the run's final figures): (type, name) → (requests, failures)."""
        rows = {}
        for line in self.process.stdout.splitlines()[3:]:
            cells = line.split()
            if len(cells) >= 8 and cells[-7].isdigit():
                key = (cells[0], cells[1]) if len(cells) == 9 else ("", cells[0])
                rows[key] = (int(cells[-7]), int(cells[-6]))
        return rows

    @property
    def failed(self) -> set[tuple[str, str]]:
        """(name, error text) of the summary's "failed NAME ×N: ERROR" lines."""
        found = set()
        for line in self.process.stdout.splitlines():
            if line.startswith("failed "):
                head, _, error = line.partition(": ")
                found.add((head.split()[1], error))
        return found

    def requests(self, kind: str, name: str) -> int:
        return self.table[(kind, name)][0]

    def failures(self, kind: str, name: str) -> int:
        return self.table[(kind, name)][1]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def wsapp_load(tmp_path: Path):
    """Run ``wsapp load URL OPTIONS`` (its own process, Locust's below it): its summary, Locust's CSV report.

    Locust rewrites its CSV files once a second during the run, not at the end: they may miss the last
    second, so exact counts are read from the summary ``wsapp load`` prints.
    """

    def run(url: str, options: str, timeout: float = 60) -> LoadRun:
        prefix = tmp_path / "run"
        command = [sys.executable, "-m", "wsapp", "load", url, "--csv", str(prefix), *shlex.split(options)]
        # Its own session: a run that overstays is stopped with Locust's processes below it, none left over.
        popen = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            stdout, stderr = popen.communicate()
            raise AssertionError(f"wsapp load ran over {timeout} s:\n{stderr[-3000:]}") from None
        process = subprocess.CompletedProcess(command, popen.returncode, stdout, stderr)
        stats_file = Path(f"{prefix}_stats.csv")
        assert stats_file.is_file(), textwrap.shorten(process.stderr, 2000)
        stats = {(row["Type"], row["Name"]): row for row in _rows(stats_file)}
        failures = {(row["Name"], row["Error"]) for row in _rows(Path(f"{prefix}_failures.csv"))}
        return LoadRun(process, stats, failures)

    return run
