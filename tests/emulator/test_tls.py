"""TLS on the local stage: ``LocalGateway(tls=True)`` serves ``wss://`` and ``https://`` with a certificate
from a local CA (trustme), which clients trust through ``ca_bundle`` and the functions through the
variables the emulator adds; the functions' callback paths keep working however the code builds the URL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import aiohttp
import boto3
import pytest
import websocket
from botocore.config import Config
from emukit import HEADER, function, integration, route, signed_headers
from yarl import URL

from wsapp.emulator import LocalGateway

REPO = Path(__file__).resolve().parents[2]

HANDLER = """\
import json
import os
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def handler(event, context):
    ctx = event["requestContext"]
    offered = (event.get("headers") or {}).get("Sec-WebSocket-Protocol")
    if ctx["eventType"] == "CONNECT" and offered:  # wsapp connect offers wsapp.v1
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": offered.split(",")[0]}}
    if ctx["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    how = json.loads(event["body"])["how"]
    data = json.dumps({"via": how}).encode()
    if how == "raw-slash":  # no SDK: signed, over Python's own https, the path a JS SDK client sends
        url = f"https://{ctx['domainName']}/{ctx['stage']}//@connections/{ctx['connectionId']}"
        request = AWSRequest(method="POST", url=url, data=data)
        SigV4Auth(Credentials("local", "local"), "execute-api", os.environ["AWS_REGION"]).add_auth(request)
        raw = urllib.request.Request(url, data=data, headers=dict(request.headers.items()), method="POST")
        with urllib.request.urlopen(raw, timeout=5) as answer:
            return {"statusCode": 200, "body": str(answer.status)}
    endpoint = {
        "env": None,  # AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI
        "domain": f"https://{ctx['domainName']}/{ctx['stage']}",
        "domain-slash": f"https://{ctx['domainName']}/{ctx['stage']}/",
        "api-id": f"https://{ctx['apiId']}.execute-api.{os.environ['AWS_REGION']}.amazonaws.com/{ctx['stage']}",
        "api-id-slash": f"https://{ctx['apiId']}.execute-api.{os.environ['AWS_REGION']}.amazonaws.com/{ctx['stage']}/",
    }[how]
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    client.post_to_connection(ConnectionId=ctx["connectionId"], Data=data)
    return {"statusCode": 200}
"""


def write_app(folder):
    (folder / "tls_handlers.py").write_text(HANDLER)
    text = HEADER + function("Fn", "tls_handlers.handler") + integration("I", "Fn")
    (folder / "template.yaml").write_text(text + route("D", "$default", "I") + route("C", "$connect", "I"))
    return folder / "template.yaml"


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tls") / "ca"  # not there yet: the first gateway makes it


@pytest.fixture(scope="module", params=["process", "thread"])
def gateway(request, tls_dir, tmp_path_factory):
    template = write_app(tmp_path_factory.mktemp("tlsapp"))
    with LocalGateway(template, dynamodb=False, isolation=request.param, tls=True, tls_dir=tls_dir) as gw:
        yield gw


def connect(gw: LocalGateway) -> websocket.WebSocket:
    return websocket.create_connection(gw.url, timeout=10, sslopt={"ca_certs": gw.ca_bundle})


def ask(gw: LocalGateway, how: str) -> list[str]:
    ws = connect(gw)
    try:
        ws.send(json.dumps({"how": how}))
        return [ws.recv()]
    finally:
        ws.close()


def test_the_stage_is_served_as_wss_and_https_and_the_ca_is_a_pem_file(gateway, tls_dir):
    assert gateway.url == f"wss://127.0.0.1:{gateway.port}/prod"
    assert gateway.management_endpoint == f"https://127.0.0.1:{gateway.port}/prod"
    assert gateway.ca_bundle == str(tls_dir / "ca.pem")
    assert (tls_dir / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("how", ["env", "domain", "domain-slash", "api-id", "api-id-slash"])
def test_a_function_posts_over_the_callback_url_its_code_builds(gateway, how):
    assert ask(gateway, how) == [json.dumps({"via": how})]


def test_a_client_that_does_not_trust_the_local_ca_fails_the_handshake_with_a_certificate_error(gateway):
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        websocket.create_connection(gateway.url, timeout=10)  # the system's roots only


def test_a_plain_ws_client_is_not_answered_on_the_tls_port(gateway):
    with pytest.raises((websocket.WebSocketException, ConnectionError)):
        websocket.create_connection(gateway.url.replace("wss://", "ws://"), timeout=5)


def test_the_certificate_is_for_loopback_and_the_apis_execute_api_host(gateway):
    context = ssl.create_default_context(cafile=gateway.ca_bundle)
    host = f"{gateway.model.api_id}.execute-api.us-east-1.amazonaws.com"
    for name in ("localhost", host):  # the name checked is the SNI one; the socket is the gateway's
        with (
            ssl.create_connection(("127.0.0.1", gateway.port)) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            names = {value for _, value in tls.getpeercert()["subjectAltName"]}
    assert {"localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", host} <= names


def test_a_boto3_client_verifying_with_the_ca_manages_the_connection_over_https(gateway):
    ws = connect(gateway)
    try:
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=gateway.management_endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
            verify=gateway.ca_bundle,
            config=Config(retries={"max_attempts": 1}),
        )
        connection_id = gateway.connection_ids[0]
        client.post_to_connection(ConnectionId=connection_id, Data=b"over https")
        assert ws.recv() == "over https"
        assert client.get_connection(ConnectionId=connection_id)["Identity"]["SourceIp"] == "127.0.0.1"
    finally:
        ws.close()


def test_a_raw_post_with_an_empty_segment_before_connections_is_delivered_over_https(gateway):
    ws = connect(gateway)
    try:
        url = f"{gateway.management_endpoint}//@connections/{gateway.connection_ids[0]}"
        context = ssl.create_default_context(cafile=gateway.ca_bundle)

        async def post() -> int:
            headers = signed_headers(None, "POST", url, b"two slashes")
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    URL(url, encoded=True), data=b"two slashes", headers=headers, ssl=context
                ) as answer,
            ):
                return answer.status

        assert asyncio.run(post()) == 200
        assert ws.recv() == "two slashes"
    finally:
        ws.close()


def test_the_ca_is_made_once_kept_and_its_key_private(gateway, tls_dir, tmp_path):
    first = (tls_dir / "ca.pem").read_bytes()
    with LocalGateway(
        write_app(tmp_path), dynamodb=False, isolation="thread", tls=True, tls_dir=tls_dir
    ) as other:
        assert other.ca_bundle == gateway.ca_bundle
    assert (tls_dir / "ca.pem").read_bytes() == first
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((tls_dir / "ca-key.pem").stat().st_mode) == 0o600
    assert sorted(p.name for p in tls_dir.iterdir()) == ["ca-key.pem", "ca.pem", "trust.pem"]


def test_the_handshake_event_says_the_client_came_over_https(tmp_path, tls_dir):
    (tmp_path / "proto_handlers.py").write_text(
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'body': event['requestContext']['eventType']}\n"
        "def connect(event, context):\n"
        "    assert event['headers']['X-Forwarded-Proto'] == 'https', event['headers']\n"
        "    return {'statusCode': 200}\n"
    )
    text = HEADER + function("Fn", "proto_handlers.connect") + integration("I", "Fn")
    (tmp_path / "template.yaml").write_text(text + route("C", "$connect", "I"))
    with LocalGateway(tmp_path / "template.yaml", dynamodb=False, tls=True, tls_dir=tls_dir) as gw:
        connect(gw).close()  # $connect raising would refuse the handshake (500)


@pytest.fixture(scope="module")
def process_gateway(tls_dir, tmp_path_factory):
    template = write_app(tmp_path_factory.mktemp("tlsraw"))
    with LocalGateway(template, dynamodb=False, isolation="process", tls=True, tls_dir=tls_dir) as gw:
        yield gw


def test_a_functions_own_https_request_trusts_the_ca_through_ssl_cert_file(process_gateway):
    # Python's default context reads SSL_CERT_FILE in the environment's own process; the request goes
    # over TCP and TLS to the gateway, with the path a JS SDK client sends for an endpoint ending in "/".
    ws = connect(process_gateway)
    try:
        ws.send(json.dumps({"how": "raw-slash"}))
        assert json.loads(ws.recv()) == {"via": "raw-slash"}
    finally:
        ws.close()


def test_wsapp_local_tls_prints_the_wss_url_and_the_ca_and_wsapp_connect_trusts_it(tmp_path):
    template = write_app(tmp_path)
    env = {**os.environ, "WSAPP_TLS_DIR": str(tmp_path / "tls"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "wsapp", "local", "--template", str(template), "--port", "0"]
    server = subprocess.Popen(
        [*command, "--tls", "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline() for _ in range(3)]
        assert re.fullmatch(r"WebSocket URL: wss://127\.0\.0\.1:\d+/prod\n", banner[0]), banner
        url = banner[0].split(": ", 1)[1].strip()
        assert banner[1] == f"Management endpoint: {url.replace('wss://', 'https://')}\n"
        assert banner[2] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}\n"
        client = subprocess.run(  # no --ca: a loopback wss:// URL trusts the local CA
            [sys.executable, "-m", "wsapp", "connect", url, "--send", '{"how": "env"}', "--expect", "via"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert client.returncode == 0, client.stderr
        assert '< {"via": "env"}' in client.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0
