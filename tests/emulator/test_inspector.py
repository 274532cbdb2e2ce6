"""Issue 14: the inspector's server against a running gateway, without a browser."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import aiohttp
import pytest

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.cli import local as local_cli
from wsapp.emulator import LocalGateway
from wsapp.emulator.gateway import print_banner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inspected():
    with LocalGateway(ROOT / "template.yaml", inspector=True, isolation="thread") as gw:
        yield gw


async def _marco(gw: LocalGateway) -> None:
    token = issue_token("bob", secret=LOCAL_DEV_SECRET)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(gw.url, protocols=("wsapp.v1", token)) as ws:
            await ws.send_str('{"action":"marco"}')
            assert "polo" in (await ws.receive(timeout=5)).data


def test_the_python_api_leaves_the_inspector_off_and_wsapp_local_turns_it_on():
    with LocalGateway(ROOT / "template.yaml", isolation="thread", dynamodb=False) as gw:
        assert gw.inspector_url is None and gw.gateway.observer is None
        out = io.StringIO()
        print_banner(gw, out)
        assert "Inspector" not in out.getvalue()
    parser = __import__("argparse").ArgumentParser()
    local_cli.add_arguments(parser)
    assert parser.parse_args([]).no_inspector is False
    assert parser.parse_args(["--no-inspector"]).no_inspector is True


def test_the_banner_names_the_inspector_page_on_loopback(inspected):
    out = io.StringIO()
    print_banner(inspected, out)
    line = out.getvalue().splitlines()[-1]
    assert line == f"Inspector: http://127.0.0.1:{inspected.inspector_port}/_wsapp/"
    assert inspected.inspector_port not in (inspected.port, inspected.lambda_port)


async def test_the_stream_pushes_a_marco_as_it_happens_with_the_environment_that_served_it(inspected):
    async with aiohttp.ClientSession() as session:
        state = await (await session.get(inspected.inspector_url + "api/state")).json()
        assert [r["key"] for r in state["api"]["routes"]] == ["$connect", "$disconnect", "ping", "$default"]
        assert state["api"]["routes"][0]["authorizer"]["identitySources"] == [
            "route.request.header.Sec-WebSocket-Protocol"
        ]
        assert state["api"]["functions"]["WebSocketFunction"]["memory"] == 256
        after = state["lastSeq"]
        async with session.get(inspected.inspector_url + f"api/stream?after={after}") as stream:
            marco = asyncio.ensure_future(_marco(inspected))
            seen: list[dict] = []
            async with asyncio.timeout(10):
                while not any(e["kind"] == "invoke" and e["route"] == "$default" for e in seen):
                    line = (await stream.content.readline()).decode()
                    if line.startswith("data: "):
                        seen += json.loads(line[6:])["entries"]
            await marco
    message = next(e for e in seen if e["kind"] == "invoke" and e["route"] == "$default")
    assert message["environment"].startswith("thread ") and message["ok"] is True
    assert all(e["seq"] > after for e in seen)


async def test_actions_refuse_other_origins_non_json_and_non_loopback_host_names(inspected):
    url = inspected.inspector_url + "api/token"
    async with aiohttp.ClientSession() as session:
        other = await session.post(url, json={"sub": "x"}, headers={"Origin": "http://evil.example"})
        assert other.status == 403
        form = await session.post(
            url, data="sub=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert form.status == 415
        rebound = await session.get(inspected.inspector_url + "api/state", headers={"Host": "evil.example"})
        assert rebound.status == 403
        minted = await (await session.post(url, json={"sub": "carol"})).json()
        assert minted["protocols"] == ["wsapp.v1"] and minted["token"].startswith("ey")


async def test_replay_goes_through_the_same_path_and_is_recorded_as_a_new_invocation(inspected):
    await _marco(inspected)
    recorder = inspected.inspector.recorder
    original = [e for e in recorder.since(0) if e["kind"] == "invoke" and e["route"] == "$default"][-1]
    async with aiohttp.ClientSession() as session:
        answer = await session.post(inspected.inspector_url + "api/replay", json={"seq": original["seq"]})
        replayed = await answer.json()
        missing = await session.post(inspected.inspector_url + "api/replay", json={"seq": 10**9})
    assert missing.status == 404
    again = [e for e in recorder.since(original["seq"]) if e.get("replayOf") == original["seq"]]
    assert [e["requestId"] for e in again] == [replayed["requestId"]]
    assert again[0]["requestId"] != original["requestId"] and again[0]["event"] == original["event"]
