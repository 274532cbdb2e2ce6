"""Faults, each with AWS's observable outcome and the connection kept or closed as AWS would.

Faults already covered by ``tests/emulator`` (error frames for a raising / malformed / ``None``
handler, the integration timeout, authorizer failures, ``$connect`` failures, TCP drop → 1006) are
listed in the figures table, not repeated. Here: a function that overruns its own ``Timeout``, a
handler that blocks forever, ``@connections`` to a connection that closed meanwhile, a DynamoDB
outage and its recovery, and shutting the emulator down with connections open.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import boto3
import pytest
import websocket
from emukit import (
    HEADER,
    Captured,
    close_code,
    connection_id_of,
    function,
    integration,
    management,
    open_ws,
    route,
    wait_until,
)

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.emulator import Limits, LocalGateway
from wsapp.loadgen import APP_PROTOCOL

REPO = Path(__file__).resolve().parents[2]
WAIT = 30.0  # bound on any single wait (DynamoDB calls retry with back-off during an outage)
TOKEN = issue_token("faults", secret=LOCAL_DEV_SECRET, ttl=3600)
HERE = "tests/reliability/test_faults.py"

FAULT_HANDLERS = """\
import json
import threading
import time

CAPTURE = {capture!r}
_lock = threading.Lock()


def capture(event, kind):
    with _lock, open(CAPTURE, "a") as f:
        f.write(json.dumps({{"kind": kind, "event": event}}) + "\\n")


def app(event, context):
    ctx = event["requestContext"]
    capture(event, ctx["eventType"])
    if ctx["eventType"] != "MESSAGE":
        return {{"statusCode": 200}}
    if ctx["routeKey"] == "block":
        threading.Event().wait()  # forever: only Lambda's Timeout ends it
    if ctx["routeKey"] == "overrun":
        time.sleep(2.5)  # past the function's 1 s Timeout, well inside the 29 s integration timeout
    return {{"statusCode": 200, "body": event["body"]}}
"""


@pytest.fixture(scope="module")
def fault_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    capture = folder / "events.jsonl"
    capture.touch()
    (folder / "rel_fault_handlers.py").write_text(FAULT_HANDLERS.format(capture=str(capture)))
    (folder / "template.yaml").write_text(
        HEADER
        + function("Fn", "rel_fault_handlers.app", timeout=1)
        + integration("Integration", "Fn")
        + route("ConnectRoute", "$connect", "Integration")
        + route("DisconnectRoute", "$disconnect", "Integration")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
        + route("BlockRoute", "block", "Integration", two_way=True)
        + route("OverrunRoute", "overrun", "Integration", two_way=True)
    )
    return folder / "template.yaml"


@pytest.fixture(scope="module")
def captured(fault_template: Path) -> Captured:
    return Captured(fault_template.parent / "events.jsonl")


@pytest.fixture(scope="module")
def faulty(fault_template: Path):
    with LocalGateway(fault_template, limits=Limits(connect_rate=0)) as gw:
        yield gw


def internal_error(frame: str, cid: str) -> bool:
    value = json.loads(frame)
    return value["message"] == "Internal server error" and value["connectionId"] == cid


def echo(ws, text: str) -> str:
    ws.send(json.dumps({"action": "echo", "text": text}))
    return json.loads(ws.recv())["text"]


# -- Lambda-side faults ------------------------------------------------------------------------------


def test_function_overrunning_its_timeout_gives_internal_server_error_and_keeps_the_connection(
    faulty, figures
):
    before = set(faulty.connection_ids)
    ws = open_ws(faulty, "")
    cid = connection_id_of(faulty, ws, before)
    try:
        started = time.monotonic()
        ws.send(json.dumps({"action": "overrun"}))
        frame = ws.recv()
        took = time.monotonic() - started
        # Lambda fails the invocation at its Timeout (1 s); API Gateway reports it as an integration
        # failure, not as "Endpoint request timed out" (that is the 29 s integration timeout).
        assert internal_error(frame, cid), frame
        assert 1.0 <= took < 2.5
        assert any("Task timed out after 1.00 seconds" in line for line in faulty.logs)
        assert echo(ws, "still open") == "still open"
    finally:
        ws.close()
    figures.fault(
        "function exceeds its `Timeout` (1 s; integration timeout 29 s)",
        "`Internal server error` frame after 1 s; `Task timed out` in the function log",
        "kept",
        f"{HERE}::test_function_overrunning_its_timeout…",
    )


def test_a_handler_that_blocks_forever_does_not_stall_other_connections(faulty, figures):
    blockers = [open_ws(faulty, "") for _ in range(3)]
    others = [open_ws(faulty, "") for _ in range(20)]
    try:
        for ws in others:  # warm: the function's environments exist before three of them are blocked
            ws.send(json.dumps({"action": "echo", "text": "warm"}))
        assert [json.loads(ws.recv())["text"] for ws in others] == ["warm"] * 20
        for ws in blockers:
            ws.send(json.dumps({"action": "block"}))
        time.sleep(0.2)  # the three are now stuck in their handlers
        started = time.monotonic()
        for round_ in range(5):
            for ws in others:
                ws.send(json.dumps({"action": "echo", "text": f"r{round_}"}))
            assert [json.loads(ws.recv())["text"] for ws in others] == [f"r{round_}"] * 20
        answered_in = time.monotonic() - started
        assert answered_in < 1.0, f"100 echoes took {answered_in:.2f} s beside the blocked handlers"
        for ws in blockers:  # each blocked invocation fails at the 1 s Timeout; the connection stays
            assert json.loads(ws.recv())["message"] == "Internal server error"
            assert echo(ws, "after the block") == "after the block"
    finally:
        for ws in blockers + others:
            ws.close()
    figures.fault(
        "handler blocks forever (3 at once, 20 other connections busy)",
        f"others answered meanwhile (100 echoes in {answered_in:.2f} s); the blocked ones get "
        "`Internal server error` at the `Timeout`",
        "kept",
        f"{HERE}::test_a_handler_that_blocks_forever…",
    )


# -- the repository's app: @connections and DynamoDB faults, both SDK paths --------------------------


@pytest.fixture(scope="module", params=[True, False], ids=["in-process-sdk", "http-sdk"])
def app_gateway(request):
    with LocalGateway(
        REPO / "template.yaml", limits=Limits(connect_rate=0), inprocess_sdk=request.param
    ) as gw:
        yield gw


def table(gw: LocalGateway):
    """A client of the gateway's embedded DynamoDB, and the connections table's name."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=gw.dynamodb.endpoint,
        region_name=gw.account.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return client, next(iter(gw.model.tables)).name


def stored(gw: LocalGateway, cid: str) -> bool:
    client, name = table(gw)
    return "Item" in client.get_item(TableName=name, Key={"connectionId": {"S": cid}}, ConsistentRead=True)


def connect(gw: LocalGateway):
    before = set(gw.connection_ids)
    ws = authorized(gw)
    return ws, connection_id_of(gw, ws, before)


def authorized(gw: LocalGateway) -> websocket.WebSocket:
    return websocket.create_connection(gw.url, timeout=WAIT, subprotocols=[APP_PROTOCOL, TOKEN])


def next_frame(ws, action: str) -> dict:
    """The next frame with this ``action`` (skipping broadcasts of other tests), bounded by WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = json.loads(ws.recv())
        if value.get("action") == action:
            return value
    raise AssertionError(f"no {action} frame within {WAIT:g} s")


def test_post_to_a_connection_that_closed_meanwhile_is_410_and_its_row_is_cleaned(app_gateway, figures):
    gw = app_gateway
    sender, _ = connect(gw)
    gone, gone_id = connect(gw)
    try:
        assert stored(gw, gone_id)
        gone.close()
        wait_until(lambda: not stored(gw, gone_id), WAIT, "the $disconnect to delete the row")
        # $disconnect is best effort on AWS: put the row back as if it had never run.
        client, name = table(gw)
        client.put_item(
            TableName=name,
            Item={
                "connectionId": {"S": gone_id},
                "principalId": {"S": "faults"},
                "connectedAt": {"N": "0"},
                "sourceIp": {"S": "127.0.0.1"},
            },
        )
        with pytest.raises(management(gw).exceptions.GoneException) as caught:
            management(gw).post_to_connection(ConnectionId=gone_id, Data=b"anyone there?")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        sender.send(json.dumps({"action": "broadcast", "message": "who is here?"}))
        assert next_frame(sender, "broadcast")["message"] == "who is here?"
        wait_until(lambda: not stored(gw, gone_id), WAIT, "the 410 to drop the stale row")
    finally:
        sender.close()
    figures.fault(
        f"`post_to_connection` to a connection closed meanwhile ({_sdk(gw)})",
        "410 `GoneException`; the broadcast drops the stale row",
        "(gone)",
        f"{HERE}::test_post_to_a_connection_that_closed_meanwhile…",
    )


def test_dynamodb_outage_gives_clear_errors_no_crash_and_recovers(app_gateway, figures):
    gw = app_gateway
    ws, _ = connect(gw)
    leaver, leaver_id = connect(gw)
    try:
        gw.dynamodb.down = True
        try:
            ws.send('{"action":"marco","id":1}')  # marco needs no DynamoDB: still answered
            assert next_frame(ws, "polo")["id"] == 1
            ws.send(json.dumps({"action": "broadcast", "message": "during the outage"}))
            error = next_frame(ws, "error")  # wsapp's handler catches the failure and says so
            assert error["message"] == "Internal error" and error["requestId"]
            assert handshake_status_with_token(gw) == 500  # $connect cannot store the connection
            leaver.close()  # its $disconnect cannot delete the row: it stays behind, stale
            wait_until(lambda: leaver_id not in gw.connection_ids, WAIT, "the leaver to be gone")
            ws.send('{"action":"marco","id":2}')
            assert next_frame(ws, "polo")["id"] == 2  # the connection stayed open throughout
        finally:
            gw.dynamodb.down = False
        late, late_id = connect(gw)  # recovery: connections are stored again
        try:
            assert stored(gw, late_id)
            ws.send(json.dumps({"action": "broadcast", "message": "after the outage"}))
            assert next_frame(ws, "broadcast")["message"] == "after the outage"
            assert next_frame(late, "broadcast")["message"] == "after the outage"
            wait_until(lambda: not stored(gw, leaver_id), WAIT, "the stale row to be dropped on 410")
        finally:
            late.close()
    finally:
        ws.close()
    figures.fault(
        f"DynamoDB stops answering, then returns ({_sdk(gw)})",
        'broadcast → `{"action":"error","message":"Internal error"}` frame; new handshakes 500; '
        "marco unaffected; after recovery connects and broadcasts work, stale rows dropped",
        "kept",
        f"{HERE}::test_dynamodb_outage…",
    )


def handshake_status_with_token(gw: LocalGateway) -> int:
    try:
        ws = authorized(gw)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101


def _sdk(gw: LocalGateway) -> str:
    return "in-process SDK" if gw.inprocess_sdk else "SDK over HTTP"


# -- shutdown with open connections ------------------------------------------------------------------


def test_stopping_the_emulator_closes_every_connection_and_runs_every_disconnect(
    fault_template, captured, figures
):
    gw = LocalGateway(fault_template, limits=Limits(connect_rate=0)).start()
    try:
        sockets = [open_ws(gw, "") for _ in range(20)]
        ids = set(wait_until(lambda: len(gw.connection_ids) == 20 and set(gw.connection_ids), what="20 open"))
        sockets[0].send(json.dumps({"action": "block"}))  # one handler stuck when the stop comes
        time.sleep(0.2)
    finally:
        started = time.monotonic()
        gw.stop()
        took = time.monotonic() - started
    assert took < 10, f"stop took {took:.1f} s"
    assert [close_code(ws) for ws in sockets] == [1001] * 20
    for cid in ids:
        ctx = captured.wait("DISCONNECT", cid)["requestContext"]
        assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (1001, "Going away")
    figures.fault(
        "emulator stopped with 20 connections open (one handler blocked)",
        f"each gets close 1001 and a `$disconnect` (1001 Going away); `stop()` returned in {took:.1f} s",
        "closed",
        f"{HERE}::test_stopping_the_emulator…",
    )


@pytest.mark.timeout(90)
async def test_sigterm_to_wsapp_local_closes_every_connection_and_exits(wsapp_local, figures):
    gateway = wsapp_local("--connect-rate", "0")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        sockets = await asyncio.gather(
            *(
                asyncio.wait_for(s.ws_connect(gateway.url, protocols=(APP_PROTOCOL, TOKEN)), WAIT)
                for _ in range(50)
            )
        )
        started = time.monotonic()
        gateway.proc.terminate()
        frames = await asyncio.gather(*(ws.receive(timeout=WAIT) for ws in sockets))
        code = await asyncio.to_thread(gateway.proc.wait, WAIT)
        took = time.monotonic() - started
    assert {(f.type, f.data) for f in frames} == {(aiohttp.WSMsgType.CLOSE, 1001)}
    assert code == 0, gateway.errors()
    figures.fault(
        "`wsapp local` gets SIGTERM with 50 connections open",
        f"each gets close 1001; the process exits 0 in {took:.1f} s",
        "closed",
        f"{HERE}::test_sigterm_to_wsapp_local…",
    )


def test_marco_still_answered_after_the_faults(faulty):
    """The module's gateway survived everything above (blocked threads included)."""
    ws = open_ws(faulty, "")
    try:
        assert echo(ws, "alive") == "alive"
    finally:
        ws.close()
