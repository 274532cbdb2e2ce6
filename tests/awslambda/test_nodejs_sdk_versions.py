"""Each Node.js runtime provides the AWS SDK its Lambda image holds: v2 (``aws-sdk``) up to nodejs16.x,
v3 (``@aws-sdk/*``) from nodejs18.x [DOC: "Lambda runtimes"]. A public app on nodejs16.x that requires
``aws-sdk`` without shipping it runs; the same code on nodejs20.x fails at init, as it does on AWS."""

from __future__ import annotations

import json

import pytest

from wsapp.emulator.invoke import invoke
from wsapp.testing import load_event

SDKS = """\
let v2 = null, v3 = null;
try { v2 = typeof require("aws-sdk").ApiGatewayManagementApi; } catch (e) { v2 = e.code; }
const V3 = "@aws-sdk/client-apigatewaymanagementapi";
try { v3 = typeof require(V3).ApiGatewayManagementApiClient; } catch (e) { v3 = e.code; }
exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ v2, v3 }) });
"""


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("nodejs16.x", {"v2": "function", "v3": "MODULE_NOT_FOUND"}),
        ("nodejs14.x", {"v2": "function", "v3": "MODULE_NOT_FOUND"}),
        ("nodejs18.x", {"v2": "MODULE_NOT_FOUND", "v3": "function"}),
        ("nodejs20.x", {"v2": "MODULE_NOT_FOUND", "v3": "function"}),
    ],
)
def test_each_runtime_provides_the_sdk_of_its_lambda_image(node_app, runtime, expected):
    node_app.file("fn/index.js", SDKS)
    template = node_app.function("Fn", "index.handler", "fn", runtime=runtime).route("$default", "Fn").write()
    [outcome] = invoke(template, [load_event("message_marco")])
    assert outcome.invocation.ok, outcome.invocation.error_message
    assert json.loads(outcome.invocation.value["body"]) == expected
