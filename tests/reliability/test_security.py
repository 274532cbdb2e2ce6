"""Security defaults: loopback only, signed @connections, tokens kept out of logs, no wildcard grants."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import psutil
import pytest
import websocket
from botocore.config import Config
from emukit import signed_headers

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import Limits, LocalGateway
from wsapp.emulator.template import translate_file
from wsapp.loadgen import APP_PROTOCOL

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0
HERE = "tests/reliability/test_security.py"


def listening(pid: int) -> set[str]:
    """The addresses a process listens on (TCP)."""
    return {
        c.laddr.ip for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    }


# -- binding -----------------------------------------------------------------------------------------


def test_local_gateway_binds_loopback_by_default():
    with LocalGateway(REPO / "template.yaml") as gw:
        assert gw.host == "127.0.0.1"
        assert gw.url.startswith("ws://127.0.0.1:")
        assert gw.dynamodb is not None and gw.dynamodb.endpoint.startswith("http://127.0.0.1:")


def test_wsapp_local_listens_on_loopback_only(wsapp_local, figures):
    gateway = wsapp_local()
    assert gateway.url.startswith("ws://127.0.0.1:")
    assert listening(gateway.proc.pid) == {"127.0.0.1"}  # the gateway and the embedded DynamoDB
    figures.security(
        "`wsapp local` with no `--host`",
        "listens on 127.0.0.1 only (gateway and DynamoDB)",
        f"{HERE}::test_wsapp_local_listens_on_loopback_only",
    )


def test_wsapp_local_binds_where_it_is_told(wsapp_local):
    gateway = wsapp_local("--host", "127.0.0.2")  # another loopback address: the test stays local
    assert gateway.url.startswith("ws://127.0.0.2:")
    assert listening(gateway.proc.pid) == {"127.0.0.2"}


# -- @connections needs a signature ------------------------------------------------------------------


@pytest.fixture(scope="module", params=[True, False], ids=["in-process-sdk", "http-sdk"])
def pinned(request):
    """The app with ``credentials=("KEY", "SECRET")``: @connections callers must sign with exactly those."""
    with LocalGateway(
        REPO / "template.yaml",
        limits=Limits(connect_rate=0),
        credentials=("KEY", "SECRET"),
        inprocess_sdk=request.param,
    ) as gw:
        yield gw


def client(gw: LocalGateway, key: str, secret: str):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gw.management_endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=WAIT),
    )


def open_app(gw: LocalGateway) -> tuple[websocket.WebSocket, str]:
    before = set(gw.connection_ids)
    ws = websocket.create_connection(
        gw.url, timeout=WAIT, subprotocols=[APP_PROTOCOL, issue_token("sec", secret=LOCAL_DEV_SECRET)]
    )
    deadline = time.monotonic() + WAIT
    while not set(gw.connection_ids) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    return ws, next(iter(set(gw.connection_ids) - before))


def raw_post(gw: LocalGateway, cid: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{gw.management_endpoint}/@connections/{cid}", data=b"x", method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_unsigned_connections_call_is_403_even_with_any_credentials_accepted(figures):
    with LocalGateway(REPO / "template.yaml") as gw:
        ws, cid = open_app(gw)
        try:
            status, headers = raw_post(gw, cid, {})
            assert (status, headers["x-amzn-ErrorType"]) == (403, "ForbiddenException")
            signed = signed_headers(gw, "POST", f"{gw.management_endpoint}/@connections/{cid}", b"x")
            assert raw_post(gw, cid, signed)[0] == 200  # any credentials, as long as it is signed
            assert ws.recv() == "x"
        finally:
            ws.close()
    figures.security(
        "`@connections` without a SigV4 signature (default: any credentials)",
        "403 `ForbiddenException`; a signed call with any key is accepted",
        f"{HERE}::test_unsigned_connections_call_is_403…",
    )


def test_pinned_credentials_accept_only_themselves_and_the_app_still_answers(pinned, figures):
    ws, cid = open_app(pinned)
    try:
        ws.send('{"action":"marco","id":5}')  # the functions sign with the pinned pair themselves
        assert json.loads(ws.recv())["id"] == 5
        good = client(pinned, "KEY", "SECRET")
        good.post_to_connection(ConnectionId=cid, Data=b"signed right")
        assert ws.recv() == "signed right"
        for key, secret in [("KEY", "WRONG"), ("OTHER", "SECRET"), ("x", "y")]:
            with pytest.raises(good.exceptions.ForbiddenException):
                client(pinned, key, secret).post_to_connection(ConnectionId=cid, Data=b"forged")
        ws.settimeout(0.2)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()  # nothing forged got through
    finally:
        ws.close()
    figures.security(
        f"`@connections` with `credentials=` pinned ({'in-process' if pinned.inprocess_sdk else 'HTTP'} SDK)",
        "wrong key or secret → 403 `ForbiddenException`; the app's own replies still flow",
        f"{HERE}::test_pinned_credentials…",
    )


# -- tokens never logged -----------------------------------------------------------------------------


def test_tokens_never_appear_in_the_logs(wsapp_local, figures):
    # `wsapp local` printing every function and gateway log line: a process of its own, so the
    # handlers' loggers write to this gateway's output and nothing else.
    gateway = wsapp_local("--connect-rate", "0", quiet=False)
    now = int(time.time())
    valid = issue_token("logged", secret=LOCAL_DEV_SECRET)
    expired = issue_token("logged", secret=LOCAL_DEV_SECRET, now=now - 7200, ttl=60)
    forged = issue_token("logged", secret="f" * 48)
    for token in (valid, expired, forged):
        try:
            ws = websocket.create_connection(gateway.url, timeout=WAIT, subprotocols=[APP_PROTOCOL, token])
        except websocket.WebSocketBadStatusException as exc:
            assert exc.status_code == 403
            continue
        ws.send('{"action":"marco","id":1}')
        assert json.loads(ws.recv())["id"] == 1
        ws.close()
    deadline = time.monotonic() + WAIT
    while "disconnected" not in "".join(gateway.output) and time.monotonic() < deadline:
        time.sleep(0.05)
    gateway.stop()
    logs = "".join(gateway.output) + gateway.errors()
    assert "token accepted" in logs and "token rejected" in logs  # the authorizer did log
    for token in (valid, expired, forged):
        assert token.rsplit(".", 1)[1] not in logs  # the signature
        assert token.split(".")[1] not in logs  # the claims
    figures.security(
        "tokens offered in `Sec-WebSocket-Protocol` (valid, expired, forged)",
        "never written to `wsapp local`'s output (function and gateway logs, stderr)",
        f"{HERE}::test_tokens_never_appear_in_the_logs",
    )


# -- the template's grants ---------------------------------------------------------------------------


def statements(cfn: dict) -> list[tuple[str, dict]]:
    found = []
    for name, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                found += [(name, s) for s in policy["PolicyDocument"]["Statement"]]
            assert not resource["Properties"].get("ManagedPolicyArns", [])[1:], name  # basic execution only
    return found


def as_text(value) -> str:
    return json.dumps(value, sort_keys=True)


def test_the_template_grants_no_wildcard_resources(figures):
    cfn = translate_file(REPO / "template.yaml", {"TokenSecret": "x" * 32})
    found = statements(cfn)
    assert found, "no IAM statements found"
    for role, statement in found:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in resources, (role, statement)
        assert not any(a == "*" or a.endswith(":*") for a in actions), (role, statement)
        for resource in resources:
            text = as_text(resource)
            if "*" in text:  # only inside this API and stage: .../${Api}/${Stage}/*/@connections/*
                assert "${WebSocketApi}/${StageName}/" in text, (role, resource)
                assert text.index("${StageName}/") < text.index("*"), (role, resource)
    for name, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Permission":
            source = as_text(resource["Properties"].get("SourceArn"))
            assert "${WebSocketApi}/" in source, (name, source)  # invocable from this API only
    figures.security(
        "`template.yaml`'s IAM grants",
        f"{len(found)} statements, none with a `*` resource or action; wildcards only after "
        "`{api}/{stage}/`; Lambda permissions scoped to this API",
        f"{HERE}::test_the_template_grants_no_wildcard_resources",
    )
