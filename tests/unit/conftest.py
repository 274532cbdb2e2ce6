from __future__ import annotations

import sys

import boto3
import pytest
from botocore.stub import ANY, Stubber

from wsapp.logs import logger
from wsapp.management import ConnectionsClient
from wsapp.services import Services
from wsapp.store import MemoryConnectionStore

REGION = "eu-west-1"
ENDPOINT = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"  # the sample events' stage


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch):
    """No test sees the developer's AWS configuration or wsapp's deployment variables."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "CONNECTIONS_TABLE",
        "TOKEN_SECRET",
        "WSAPP_TOKEN_SECRET",
        "WSAPP_SUBPROTOCOLS",
        "WSAPP_ACTIONS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time, so capsys sees it."""

    def write(self, text):
        return sys.stdout.write(text)

    def flush(self):
        sys.stdout.flush()


@pytest.fixture
def log_output(capsys):
    """Call it to get the JSON log lines written since the last call.

    The logger's handler binds ``sys.stdout`` when wsapp.logs is imported, before capsys replaces it.
    """
    handler = logger.registered_handler
    previous, handler.stream = handler.stream, _CurrentStdout()
    yield lambda: capsys.readouterr().out
    handler.stream = previous


class ManagementStub:
    """A real boto3 ``apigatewaymanagementapi`` client under botocore's Stubber.

    The client validates every call against the service model; ``posts`` records what was posted, in order.
    """

    def __init__(self) -> None:
        self.client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=ENDPOINT,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.posts: list[tuple[str, bytes]] = []
        self.client.meta.events.register(
            "before-parameter-build.apigatewaymanagementapi.PostToConnection", self._record
        )

    def _record(self, params, **kwargs):
        self.posts.append((params["ConnectionId"], params["Data"]))

    def expect_post(self, connection_id=ANY, data=ANY):
        self.stubber.add_response("post_to_connection", {}, {"ConnectionId": connection_id, "Data": data})

    def expect_gone(self, method="post_to_connection", connection_id=ANY):
        params = {"ConnectionId": connection_id}
        if method == "post_to_connection":
            params["Data"] = ANY
        self.stubber.add_client_error(
            method, service_error_code="GoneException", http_status_code=410, expected_params=params
        )

    def assert_all_used(self):
        self.stubber.assert_no_pending_responses()


@pytest.fixture
def management():
    stub = ManagementStub()
    with stub.stubber:
        yield stub


@pytest.fixture
def store():
    return MemoryConnectionStore()


@pytest.fixture
def services(management, store):
    return Services(
        store=store, connections=ConnectionsClient(ENDPOINT, client=management.client, store=store)
    )
