"""A look-alike of templates written with the AWS::LanguageExtensions transform (``foreach_commands/``):
Fn::ForEach makes a route, integration, route response and function per item of a CommaDelimitedList
parameter, and the functions read Fn::ToJsonString, Fn::Length and Fn::FindInMap (DefaultValue) values
from their environment. The parameter given to the gateway decides which routes exist. End to end over
real WebSockets, in both isolations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.timeout(60)
TEMPLATE = Path(__file__).parent / "foreach_commands" / "template.yaml"
COMMANDS = "echo,upper,word-count"  # the template's default has only echo and upper


@pytest.fixture(scope="module")
def gateway_parameters():
    return {"Commands": COMMANDS}


def ask(ws: websocket.WebSocket, action: str, text: str) -> dict:
    ws.send(json.dumps({"action": action, "text": text}))
    return json.loads(ws.recv())


def test_each_command_of_the_parameter_has_its_own_route_and_function(gw):
    ws = websocket.create_connection(gw.url, timeout=15)
    try:
        echo = ask(ws, "echo", "hello there")
        upper = ask(ws, "upper", "hello there")
        words = ask(ws, "word-count", "hello there, world")  # only there because of the parameter
    finally:
        ws.close()
    assert (echo["command"], echo["result"]) == ("echo", "hello there")
    assert (upper["command"], upper["result"]) == ("upper", "UP:HELLO THERE")  # the mapping's prefix
    assert (words["command"], words["result"]) == ("word-count", "3")  # no prefix: the DefaultValue
    for reply in (echo, upper, words):
        assert reply["commandCount"] == 3  # Fn::Length of the list parameter
        assert reply["settings"] == {"stage": "dev", "commands": ["echo", "upper", "word-count"]}
        # Fn::ToJsonString of a resource's Ref
        assert reply["table"] == f"wsapp-local-CallsTable-{gw.model.account.name_suffix}"
    assert [r["calls"] for r in (echo, upper, words)][-1] >= 3  # all three wrote to the one table


def test_the_functions_are_the_generated_logical_ids(gw):
    # &{Command} drops the hyphen: word-count's function is wordcountFunction.
    generated = ["echoFunction", "upperFunction", "wordcountFunction"]
    assert sorted(gw.model.functions) == ["ConnectFunction", *generated]
