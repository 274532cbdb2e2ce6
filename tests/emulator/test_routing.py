"""Reference §9.4 / §3: route selection, as a pure function and over a live connection."""

from __future__ import annotations

import json
import re

import pytest
from emukit import connection_id_of, open_ws, write_no_default

from wsapp.emulator import LocalGateway
from wsapp.emulator.apigateway.routing import evaluate, select_route

ROUTES = {"$connect", "$disconnect", "$default", "join", "Ping", "[a, b]", "42", "true", "chat/send"}


# -- the pure function --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"action": ["a", "b"]}', "[a, b]"),
        ('{"action": 42}', "42"),
        ('{"action": 42.0}', "42"),
        ('{"action": true}', "true"),
        ('{"action": false}', "false"),
        ('{"other": 1}', ""),
        ('{"action": null}', ""),  # UNCONFIRMED: treated as not found
        ('{"action": {"x": 1}}', ""),  # UNCONFIRMED: treated as not found
        ('{"action": "join"}', "join"),
    ],
    ids=["array", "int", "integral-float", "true", "false", "missing", "null", "object", "string"],
)
def test_bare_expression_stringifies_what_the_path_finds(body, expected):
    assert evaluate("$request.body.action", body) == expected


def test_non_json_body_evaluates_to_none():
    assert evaluate("$request.body.action", "hello") is None


def test_braced_template_joins_several_values_and_missing_ones_become_empty():
    expression = "${request.body.service}/${request.body.action}"
    assert evaluate(expression, '{"service": "chat", "action": "send"}') == "chat/send"
    assert evaluate("${request.body.action}-${request.body.nope}", '{"action": "join"}') == "join-"


def test_nested_paths_resolve():
    assert evaluate("$request.body.meta.kind", '{"meta": {"kind": "join"}}') == "join"


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "join"}', "join"),
        ('{"action": "Ping"}', "Ping"),
        ('{"action": "ping"}', "$default"),  # case-sensitive
        ('{"action": ["a", "b"]}', "[a, b]"),
        ('{"action": 42}', "42"),
        ('{"action": true}', "true"),
        ('{"action": "nosuch"}', "$default"),
        ('{"action": "$connect"}', "$default"),  # lifecycle routes are never selected
        ('{"action": "$disconnect"}', "$default"),
        ("not json", "$default"),
        ('{"nothing": 1}', "$default"),
    ],
)
def test_select_route_exact_match_else_default(body, route):
    assert select_route("$request.body.action", body, ROUTES) == route


def test_select_route_with_a_template_expression():
    expression = "${request.body.service}/${request.body.action}"
    assert select_route(expression, '{"service": "chat", "action": "send"}', ROUTES) == "chat/send"


def test_select_route_without_default_is_none():
    assert select_route("$request.body.action", '{"action": "nosuch"}', {"join"}) is None
    assert select_route("$request.body.action", "not json", {"join"}) is None


# -- live ---------------------------------------------------------------------------------------------


def route_of(ws, body: str) -> str:
    ws.send(body)
    return json.loads(ws.recv())["requestContext"]["routeKey"]


@pytest.fixture(scope="module")
def lab_ws(lab):
    ws = open_ws(lab)
    yield ws
    ws.close()


def test_non_json_message_goes_to_default(lab_ws):
    assert route_of(lab_ws, "hello, not JSON") == "$default"


def test_unmatched_action_goes_to_default(lab_ws):
    assert route_of(lab_ws, json.dumps({"action": "nosuch"})) == "$default"


def test_exact_case_sensitive_match_selects_the_route(lab_ws):
    assert route_of(lab_ws, json.dumps({"action": "Ping"})) == "Ping"
    assert route_of(lab_ws, json.dumps({"action": "ping"})) == "$default"


@pytest.fixture(scope="module")
def no_default(tmp_path_factory):
    with LocalGateway(write_no_default(tmp_path_factory.mktemp("nodefault"))) as gw:
        yield gw


@pytest.mark.parametrize("body", ['{"action": "nosuch"}', "not json"], ids=["unmatched", "non-json"])
def test_without_default_an_unmatched_message_gets_a_forbidden_frame_and_stays_open(no_default, body):
    before = set(no_default.connection_ids)
    ws = open_ws(no_default, "")
    try:
        cid = connection_id_of(no_default, ws, before)
        ws.send(body)
        frame = ws.recv()
        layout = r'\{"message": "Forbidden", "connectionId":"(?P<c>[^"]+)", "requestId":"[\w-]{15}="\}'
        match = re.fullmatch(layout, frame)
        assert match, frame
        assert match["c"] == cid
        ws.send(json.dumps({"action": "hello"}))
        assert ws.recv() == "hello from hello"  # the connection is still open
    finally:
        ws.close()
