"""Reference §9.1: the HTTP status of the opening handshake (§0, §2, §4.1)."""

from __future__ import annotations

import asyncio

import pytest
from emukit import handshake_status, open_ws


def authorizer_calls(gw) -> int:
    return gw.runtimes["AuthFunction"].invocations


def connect_calls(gw) -> int:
    return gw.runtimes["AppFunction"].invocations


def test_missing_identity_source_is_401_and_the_authorizer_is_not_invoked(lab):
    before = authorizer_calls(lab), connect_calls(lab)
    assert handshake_status(lab, "") == 401
    assert handshake_status(lab, "auth=") == 401  # present but empty counts as missing
    assert (authorizer_calls(lab), connect_calls(lab)) == before
    assert any("identity source missing" in line for line in lab.logs)


def test_authorizer_raising_unauthorized_is_401(lab):
    before = connect_calls(lab)
    assert handshake_status(lab, "auth=unauthorized") == 401
    assert connect_calls(lab) == before  # $connect never runs after a rejection


def test_deny_policy_is_403(lab):
    assert handshake_status(lab, "auth=deny") == 403


def test_iam_wildcard_stage_star_star_does_not_match_connect_and_is_403(lab):
    # .../prod/*/* needs two more path segments; .../prod/$connect has one (powertools#5800).
    assert handshake_status(lab, "auth=wildcard") == 403


def test_iam_wildcard_stage_star_matches_connect(lab):
    ws = open_ws(lab, "auth=star")
    ws.close()


def test_allow_for_another_stage_is_no_matching_allow_and_is_403(lab):
    assert handshake_status(lab, "auth=otherstage") == 403


def test_explicit_deny_wins_over_a_matching_allow(lab):
    assert handshake_status(lab, "auth=denywins") == 403


@pytest.mark.parametrize(
    "mode",
    ["raise", "sleep", "garbage", "noprincipal", "badcontext"],
    ids=["raises", "times-out", "returns-non-policy", "omits-principalId", "returns-object-context"],
)
def test_authorizer_failure_is_500(lab, mode):
    before = connect_calls(lab)
    assert handshake_status(lab, f"auth={mode}") == 500
    assert connect_calls(lab) == before


@pytest.mark.parametrize("status", [400, 401, 403, 302, 301, 501])
def test_connect_returning_a_non_2xx_status_rejects_the_handshake_with_that_status(lab, status):
    assert handshake_status(lab, f"auth=allow&connect={status}") == status


def test_connect_returning_201_is_accepted(lab):
    ws = open_ws(lab, "auth=allow&connect=201")
    ws.close()


def test_connect_returning_an_empty_object_is_accepted_and_null_is_a_malformed_response(lab):
    # Behaviour.connect_without_status (UNCONFIRMED): {} connects, as public apps that return it do on AWS.
    ws = open_ws(lab, "auth=allow&connect=empty")
    ws.close()
    assert handshake_status(lab, "auth=allow&connect=null") == 502


async def test_the_knob_refuses_a_connect_response_without_status_when_asked():
    from wsapp.emulator.apigateway.config import Behaviour
    from wsapp.emulator.apigateway.handshake import connect
    from wsapp.emulator.awslambda.invocation import Invocation

    class Answers:
        def submit(self, event, **kwargs):
            future = asyncio.get_running_loop().create_future()
            future.set_result(Invocation("r", ok=True, value={}))
            return future

    assert (await connect(Answers(), {}, 1.0, Behaviour())).status == 101
    refused = await connect(Answers(), {}, 1.0, Behaviour(connect_without_status=None))
    assert (refused.status, refused.why) == (502, "Malformed Lambda proxy response: no statusCode")


def test_connect_raising_is_502(lab):
    assert handshake_status(lab, "auth=allow&connect=raise") == 502


def test_authorizer_runs_on_every_connect_without_caching(lab, captured):
    before = len(captured.find("AUTHORIZER"))
    for _ in range(3):
        open_ws(lab, "auth=allow&cache=probe").close()
    assert len(captured.find("AUTHORIZER")) - before == 3
