"""The template's DynamoDB tables, served locally by moto on a free loopback port.

Handlers reach it through ``AWS_ENDPOINT_URL_DYNAMODB`` (the SDK's own per-service endpoint
variable), so their DynamoDB code runs unchanged with no AWS account. In this process the same
requests can skip the socket: :meth:`answer` hands them to moto's WSGI application directly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import EndpointConnectionError

from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.template.model import TableSpec

_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "TableClass",
)
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@contextlib.contextmanager
def _no_profile() -> Iterator[None]:
    """Hide ``AWS_PROFILE`` for a moment: a profile that is not configured makes botocore refuse to
    create any session, though nothing local needs one (moto's advice, getmoto/moto#5469)."""
    saved = {k: os.environ.pop(k) for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class EmbeddedDynamoDB:
    """moto's DynamoDB application behind a loopback HTTP server, and callable in-process too.

    ``down = True`` simulates an outage for fault tests: HTTP callers get 503 ServiceUnavailable and
    in-process callers a connection error, until it is set back to False.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.endpoint = ""
        self.down = False
        self._app: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        # Heavy imports, only when a template has tables. Straight to the DynamoDB backend: moto's
        # dispatcher that guesses the service of every request costs more than the request itself.
        from moto.moto_server.werkzeug_app import create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
        with _no_profile():  # moto makes (and caches) a boto3 session for its region list now
            self._app = create_backend_app("dynamodb")
        self._server = make_server(self.host, 0, self._wsgi, threaded=True)
        # A short poll interval: shutdown waits for it, and a gateway should stop promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wsapp-dynamodb",
            daemon=True,
        )
        self._thread.start()
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.endpoint = f"http://{host}:{self._server.server_port}"
        return self.endpoint

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.down:
            start_response(
                "503 Service Unavailable",
                [("x-amzn-ErrorType", "ServiceUnavailable"), ("Content-Type", "application/x-amz-json-1.0")],
            )
            return [b'{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable","message":"outage"}']
        return self._app(environ, start_response)

    def create_tables(self, tables: Sequence[TableSpec], region: str) -> None:
        # A session of its own (boto3's default one belongs to thread-isolated functions) that reads no
        # profile: an AWS_PROFILE the user has set, configured or not, has nothing to do with local tables.
        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        session = boto3.session.Session(region_name=region, botocore_session=core, **LOCAL_CREDENTIALS)
        client = session.client("dynamodb", endpoint_url=self.endpoint)
        existing = set(client.list_tables()["TableNames"])
        for table in tables:
            props = table.properties
            if table.name in existing:  # moto's state is per process; another gateway made it already
                continue
            args = {k: props[k] for k in _CREATE_KEYS if k in props}
            if "StreamSpecification" in args:
                # CloudFormation's StreamSpecification is only a StreamViewType: declaring it enables the
                # stream. DynamoDB's CreateTable wants StreamEnabled too.
                args["StreamSpecification"] = {"StreamEnabled": True, **args["StreamSpecification"]}
            if "BillingMode" not in args and "ProvisionedThroughput" not in args:
                args["BillingMode"] = "PAY_PER_REQUEST"
            try:
                client.create_table(TableName=table.name, **args)
                ttl = props.get("TimeToLiveSpecification")
                if ttl and ttl.get("Enabled"):
                    client.update_time_to_live(TableName=table.name, TimeToLiveSpecification=ttl)
            except client.exceptions.ClientError as exc:
                raise EmulatorError(f"{table.logical_id}: cannot create the local table: {exc}") from None

    @staticmethod
    def forget_tracked_models() -> None:
        """moto records every model object it ever makes (rows included) for its dashboard; a long-running
        gateway would keep every connection row it ever stored. Drop those records (tables keep theirs)."""
        from moto.core.model_instances import reset_model_data

        reset_model_data()

    def answer(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        """Serve one SDK request (a botocore ``AWSPreparedRequest``) without a socket.

        It goes to moto's DynamoDB response handler as moto's own in-process mock sends it, so the
        request is parsed and the answer (errors included) serialised exactly as over HTTP.
        """
        if self.down:
            raise EndpointConnectionError(endpoint_url=self.endpoint)
        from moto.core.exceptions import HTTPException
        from moto.core.request import normalize_request
        from moto.dynamodb.responses import DynamoHandler

        normalized = normalize_request(request)
        try:
            status, headers, body = DynamoHandler.dispatch(normalized, normalized.raw_url, normalized.headers)
        except HTTPException as exc:
            status, headers, body = exc.code, exc.get_headers(), exc.get_body()
        return status, dict(headers), body.encode() if isinstance(body, str) else body

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
