"""The other AWS services, served locally by moto on one free loopback port.

Functions reach it through ``AWS_ENDPOINT_URL`` (the SDKs' endpoint variable for every service) and
``AWS_ENDPOINT_URL_DYNAMODB``, so their SDK calls run unchanged with no AWS account and never leave the
machine. moto's dispatcher finds each request's service from its signature; DynamoDB, on every
connection's path, goes straight to moto's DynamoDB application (guessing costs more than the
request). In this process DynamoDB requests can skip the socket: :meth:`answer` hands them to moto's
response handler directly. moto is imported when the first request or resource needs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import EndpointConnectionError

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


class EmbeddedServices:
    """moto behind a loopback HTTP server, and callable in-process for DynamoDB.

    ``down = True`` simulates an outage for fault tests: HTTP callers get 503 ServiceUnavailable and
    in-process callers a connection error, until it is set back to False.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.endpoint = ""
        self.lambda_endpoint = ""  # where Lambda calls belong (the gateway's Invoke API)
        self.down = False
        self._dynamodb: Any = None
        self._dispatcher: Any = None
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
        self._server = make_server(self.host, 0, self._wsgi, threaded=True)
        # A short poll interval: shutdown waits for it, and a gateway should stop promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wsapp-services",
            daemon=True,
        )
        self._thread.start()
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.endpoint = f"http://{host}:{self._server.server_port}"
        return self.endpoint

    def _apps(self) -> tuple[Any, Any]:
        """moto's DynamoDB application and its dispatcher for every other service (made once)."""
        if self._dispatcher is None:
            with self._lock, _no_profile():  # moto makes (and caches) a boto3 session for its regions
                if self._dispatcher is None:
                    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

                    self._dynamodb = create_backend_app("dynamodb")
                    self._dispatcher = DomainDispatcherApplication(create_backend_app)
        return self._dynamodb, self._dispatcher

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.down:
            start_response(
                "503 Service Unavailable",
                [("x-amzn-ErrorType", "ServiceUnavailable"), ("Content-Type", "application/x-amz-json-1.0")],
            )
            return [b'{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable","message":"outage"}']
        if "/lambda/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            return self._not_lambda(start_response)
        dynamodb, dispatcher = self._apps()
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return dynamodb(environ, start_response)
        return dispatcher(environ, start_response)

    def _not_lambda(self, start_response: Any) -> Any:
        """moto's Lambda would run functions in Docker: Lambda calls that land here (an explicit
        ``endpoint_url``, or ``wsapp invoke``) are refused, naming the endpoint that serves them."""
        where = self.lambda_endpoint or "the Lambda endpoint of `wsapp local` (gateway.lambda_endpoint)"
        message = f"the embedded services do not serve Lambda; send Lambda calls to {where}"
        start_response(
            "404 Not Found",
            [("x-amzn-ErrorType", "UnknownOperationException"), ("Content-Type", "application/json")],
        )
        return [json.dumps({"Type": "User", "message": message}).encode()]

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for the embedded endpoint, on a session of its own (boto3's default one belongs
        to thread-isolated functions) that reads no profile: an ``AWS_PROFILE`` the user has set,
        configured or not, has nothing to do with local resources."""
        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        session = boto3.session.Session(region_name=region, botocore_session=core, **LOCAL_CREDENTIALS)
        return session.client(service, endpoint_url=self.endpoint)

    @staticmethod
    def forget_tracked_models() -> None:
        """moto records every model object it ever makes (rows included) for its dashboard; a long-running
        gateway would keep every connection row it ever stored. Drop those records (tables keep theirs)."""
        from moto.core.model_instances import reset_model_data

        reset_model_data()

    def answer_dynamodb(self, request: Any) -> tuple[int, dict[str, str], bytes] | None:
        """:meth:`answer` for DynamoDB requests only (None for the other services' requests)."""
        target = request.headers.get("X-Amz-Target", "")
        if isinstance(target, bytes):
            target = target.decode()
        return self.answer(request) if target.startswith("DynamoDB_") else None

    def answer(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        """Serve one SDK request (a botocore ``AWSPreparedRequest``) without a socket.

        It goes to moto's DynamoDB response handler as moto's own in-process mock sends it, so the
        request is parsed and the answer (errors included) serialised exactly as over HTTP.
        """
        if self.down:
            raise EndpointConnectionError(endpoint_url=self.endpoint)
        self._apps()  # moto loaded (once, with no profile in the way)
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
