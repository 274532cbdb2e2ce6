"""What a non-proxy integration calls, each through the interface the real one has: a Lambda function
through the Lambda Invoke API, another AWS service through its own HTTP API (here the embedded moto
endpoint, requests signed with SigV4 as API Gateway signs them with the integration's role), a URL
over HTTP, and MOCK, which calls nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wsapp.emulator.apigateway.proxy import find_header as _header
from wsapp.emulator.template.model import IntegrationSpec

FORM = "application/x-www-form-urlencoded"
# Endpoint prefixes of integration URIs whose botocore service name differs.
SERVICE_NAMES = {"states": "stepfunctions", "email": "ses", "monitoring": "cloudwatch"}


@dataclass(frozen=True)
class Request:
    """The integration request after the mappings: its body, headers and query string."""

    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None  # a Lambda function's errorMessage (X-Amz-Function-Error)


class BackendError(Exception):
    """The backend could not be reached (API Gateway answers Internal server error and logs why)."""


@dataclass
class Backends:
    """Where the calls go: the Lambda endpoint and the embedded services (both on loopback)."""

    lambda_endpoint: str
    services_endpoint: str | None
    credentials: tuple[str, str] = ("local", "local")
    _session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(auto_decompress=True)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, spec: IntegrationSpec, request: Request) -> Response:
        if spec.kind == "MOCK":
            return _mock(request)
        if spec.kind in ("HTTP", "HTTP_PROXY"):
            return await self._http(spec.method, str(spec.uri), request)
        if spec.function is not None:
            return await self._lambda(spec.function.arn, request)
        return await self._service(spec, request)

    async def _lambda(self, arn: str, request: Request) -> Response:
        # The Invoke API, as API Gateway calls it; X-Amz-Invocation-Type 'Event' (from RequestParameters)
        # makes it asynchronous: 202 and no payload [DOC set-up-lambda-integration-async].
        kind = _header(request.headers, "X-Amz-Invocation-Type") or "RequestResponse"
        url = f"{self.lambda_endpoint}/2015-03-31/functions/{arn}/invocations"
        headers = {"X-Amz-Invocation-Type": kind, "Content-Type": "application/json"}
        response = await self._send("POST", url, request.body.encode(), headers)
        error = None
        if _header(response.headers, "X-Amz-Function-Error"):
            try:
                error = str(json.loads(response.body).get("errorMessage", ""))
            except (ValueError, AttributeError):
                error = response.body
        return Response(response.status, response.body, response.headers, error)

    async def _service(self, spec: IntegrationSpec, request: Request) -> Response:
        if self.services_endpoint is None:
            raise BackendError("the embedded AWS services are off (dynamodb=False)")
        target = spec.service
        assert target is not None  # an AWS integration names a function or a service
        region, style, rest = target.region, target.style, target.rest
        model = _service_model(target.service)
        content_type = _header(request.headers, "Content-Type")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
        query = dict(request.query)
        path = "/"
        if style == "path":
            path = "/" + rest.lstrip("/")
            content_type = content_type or "application/json"
        elif "json" in (model.metadata.get("protocols") or [model.protocol]) and content_type != FORM:
            # JSON protocols name the operation in X-Amz-Target (DynamoDB, Step Functions, Kinesis...).
            headers["X-Amz-Target"] = f"{model.metadata['targetPrefix']}.{rest}"
            content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        else:  # the query protocol: Action (and Version) ride in the query string
            query = {"Action": rest, "Version": model.api_version, **query}
            content_type = content_type or FORM
        headers["Content-Type"] = content_type
        url = self.services_endpoint + path + (("?" + urlencode(query)) if query else "")
        body = request.body.encode()
        signed = self._sign(spec.method, url, body, headers, model.signing_name, region)
        return await self._send(spec.method, url, body, signed)

    async def _http(self, method: str, uri: str, request: Request) -> Response:
        url = uri
        if request.query:
            url += ("&" if urlsplit(uri).query else "?") + urlencode(dict(request.query))
        headers = dict(request.headers)
        headers.setdefault("Content-Type", "application/json")
        return await self._send(method, url, request.body.encode(), headers)

    def _sign(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str], service: str, region: str
    ) -> dict[str, str]:
        aws = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(Credentials(*self.credentials), service, region).add_auth(aws)
        return dict(aws.headers.items())

    async def _send(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        try:
            async with self.session().request(method, url, data=body, headers=dict(headers)) as response:
                text = await response.text(errors="replace")
                return Response(response.status, text, dict(response.headers))
        except aiohttp.ClientError as exc:
            raise BackendError(f"{method} {url}: {exc}") from None


def _mock(request: Request) -> Response:
    """MOCK answers with the statusCode its request template gives (200 when it gives none)
    [DOC how-to-mock-integration]; its body is empty (only response templates make one)."""
    status = 200
    try:
        parsed: Any = json.loads(request.body) if request.body.strip() else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("statusCode"), int):
        status = parsed["statusCode"]
    elif parsed is None:
        status = 500  # UNCONFIRMED: a mock template whose output is not JSON fails the integration
    return Response(status, "")


@cache
def _service_model(prefix: str) -> Any:
    session = botocore.session.get_session()
    name = SERVICE_NAMES.get(prefix, prefix)
    try:
        return session.get_service_model(name)
    except Exception:  # UnknownServiceError: look the prefix up among every service's endpoints
        for candidate in session.get_available_services():
            model = session.get_service_model(candidate)
            if model.endpoint_prefix == prefix:
                return model
    raise BackendError(f"no AWS service has the endpoint prefix {prefix!r}")
