"""Node.js functions through the gateway, as Lambda runs them: AWS's aws-lambda-ric loads the handler from
the task root, the AWS SDK v3 comes from the runtime folder through NODE_PATH (for ES modules too),
console output and errors look as in CloudWatch (lambda-runtime-reference §2.1, §3.2, §3.4, §4, §5)."""

from __future__ import annotations

# ruff: noqa: E501 - handler sources and AWS's log lines are kept on readable lines
import json
import re

import pytest
import websocket

from wsapp.emulator import EmulatorError, LocalGateway
from wsapp.emulator.invoke import invoke

pytestmark = [pytest.mark.usefixtures("node_runtime"), pytest.mark.timeout(60)]
SDK = "@aws-sdk/client-apigatewaymanagementapi"
TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

# The console's index.mjs: an ES module that imports the SDK v3 the runtime provides.
ESM = """\
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";

let client;  // made once per environment, as Lambda's examples do

export const handler = async (event, context) => {
  const ctx = event.requestContext;
  if (ctx.eventType !== "MESSAGE") return { statusCode: 200 };
  const action = JSON.parse(event.body).action;
  if (action === "marco") {
    client ??= new ApiGatewayManagementApiClient({});  // endpoint: AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI
    const data = JSON.stringify({ action: "polo", requestId: context.awsRequestId });
    await client.send(new PostToConnectionCommand({ ConnectionId: ctx.connectionId, Data: data }));
    return { statusCode: 200 };
  }
  if (action === "ping") return { statusCode: 200, body: JSON.stringify({ action: "pong" }) };
  if (action === "log") {
    console.log("hello from node", { n: 1 });
    console.warn("careful");
    console.error("broken");
    return { statusCode: 200, body: context.awsRequestId };
  }
  if (action === "boom") throw new Error("asked to fail");
  if (action === "throw-string") throw "a string";
  if (action === "env") return { statusCode: 200, body: JSON.stringify({ env: process.env, cwd: process.cwd() }) };
  if (action === "resolve") return { statusCode: 200, body: JSON.stringify({ kind: "esm", sdk: import.meta.resolve("@aws-sdk/client-apigatewaymanagementapi"), file: import.meta.url }) };
  if (action === "domain") {
    // The pattern of AWS's examples: the callback URL built from the event.
    const endpoint = `https://${ctx.domainName}/${ctx.stage}`;
    const own = new ApiGatewayManagementApiClient({ endpoint });
    try {
      await own.send(new PostToConnectionCommand({ ConnectionId: ctx.connectionId, Data: JSON.stringify({ via: "domain" }) }));
      return { statusCode: 200, body: "posted" };
    } catch (error) {
      return { statusCode: 200, body: `${error.name}: ${error.code}: ${error.message}` };
    }
  }
  return { statusCode: 400, body: "unknown action" };
};
"""

COMMONJS = """\
const { ApiGatewayManagementApiClient } = require("@aws-sdk/client-apigatewaymanagementapi");

exports.handler = async (event, context) => ({
  statusCode: 200,
  body: JSON.stringify({
    kind: typeof module === "object" && typeof require === "function" ? "commonjs" : "?",
    sdk: require.resolve("@aws-sdk/client-apigatewaymanagementapi"),
    client: typeof ApiGatewayManagementApiClient,
    file: __filename,
  }),
});
"""

TYPE_MODULE = """\
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";

export async function handler(event, context) {
  return {
    statusCode: 200,
    body: JSON.stringify({ kind: typeof require === "undefined" ? "esm" : "?", sdk: import.meta.resolve("@aws-sdk/client-apigatewaymanagementapi"), client: typeof ApiGatewayManagementApiClient, file: import.meta.url }),
  };
}
"""


@pytest.fixture(scope="module")
def app(module_node_app):
    app = module_node_app
    app.file("esm/index.mjs", ESM)
    app.file("cjs/app.js", COMMONJS)
    app.file("typemodule/app.js", TYPE_MODULE)
    app.file("typemodule/package.json", '{"type": "module"}\n')
    app.file("nested/src/handlers/app.cjs", COMMONJS)
    app.function("Esm", "index.handler", "esm")
    app.function("Cjs", "app.handler", "cjs")
    app.function("TypeModule", "app.handler", "typemodule")
    app.function("Nested", "src/handlers/app.handler", "nested")
    app.route("marco", "Esm").route("$default", "Esm", two_way=True)
    app.route("cjs", "Cjs", two_way=True).route("typemodule", "TypeModule", two_way=True)
    app.route("nested", "Nested", two_way=True)
    return app


@pytest.fixture(scope="module")
def gateway(app):
    with LocalGateway(app.write(), dynamodb=False, isolation="process") as gw:
        yield gw


@pytest.fixture
def ws(gateway):
    ws = websocket.create_connection(gateway.url, timeout=15)
    yield ws
    ws.close()


def ask(ws, action: str) -> str:
    ws.send(json.dumps({"action": action}))
    return ws.recv()


def lines_of(gateway, request_id: str) -> list[str]:
    return [line for line in gateway.logs if line.startswith(f"[Esm {request_id}] ")]


def test_marco_is_answered_polo_through_the_sdk_v3_post_to_connection(gateway, ws):
    answer = json.loads(ask(ws, "marco"))
    assert answer["action"] == "polo"
    lines = lines_of(gateway, answer["requestId"])
    assert lines[0] == f"[Esm {answer['requestId']}] START RequestId: {answer['requestId']} Version: $LATEST"


def test_a_two_way_route_sends_the_body_back(ws):
    assert json.loads(ask(ws, "ping")) == {"action": "pong"}


@pytest.mark.parametrize(
    ("route", "kind", "file"),
    [
        ("resolve", "esm", "esm/index.mjs"),  # .mjs
        ("cjs", "commonjs", "cjs/app.js"),  # .js, no package.json: CommonJS
        ("typemodule", "esm", "typemodule/app.js"),  # .js under "type": "module"
        ("nested", "commonjs", "nested/src/handlers/app.cjs"),  # a folder in the Handler string, .cjs
    ],
)
def test_the_handler_is_loaded_from_the_task_root_and_the_sdk_from_the_runtime_folder(app, node_runtime, ws, route, kind, file):
    answer = json.loads(ask(ws, route))
    assert answer["kind"] == kind
    loaded = answer["file"].removeprefix("file://")
    assert loaded == str((app.root / file).resolve())
    # require() through NODE_PATH, import through the same folders: the runtime's copy of the SDK.
    sdk = answer["sdk"].removeprefix("file://")
    assert sdk.startswith(f"{node_runtime}/node_modules/{SDK}/"), sdk
    assert answer.get("client", "function") == "function"


def test_console_lines_are_in_aws_format_between_start_and_end(gateway, ws):
    request_id = ask(ws, "log")
    lines = lines_of(gateway, request_id)
    prefix = re.escape(f"[Esm {request_id}] ")
    rid = re.escape(request_id)
    assert lines[0] == f"[Esm {request_id}] START RequestId: {request_id} Version: $LATEST"
    app_lines = [line for line in lines if re.match(rf"{prefix}{TS}\t", line)]
    assert [re.sub(rf"^{prefix}{TS}\t{rid}\t", "", line) for line in app_lines] == [
        "INFO\thello from node { n: 1 }",
        "WARN\tcareful",
        "ERROR\tbroken",
    ]
    end = lines.index(f"[Esm {request_id}] END RequestId: {request_id}")
    assert all(lines.index(line) < end for line in app_lines)
    report = lines[end + 1]
    assert re.fullmatch(
        rf"{prefix}REPORT RequestId: {rid}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t(Init Duration: [\d.]+ ms\t)?",
        report,
    )


def test_a_thrown_error_is_an_internal_server_error_frame_and_a_node_error_line(gateway, ws):
    frame = json.loads(ask(ws, "boom"))
    assert frame["message"] == "Internal server error"
    assert set(frame) == {"message", "connectionId", "requestId"}
    line = next(line for line in reversed(gateway.logs) if "\tERROR\tInvoke Error \t" in line)
    request_id = line[len("[Esm ") : line.index("]")]
    assert re.match(rf"\[Esm {request_id}\] {TS}\t{request_id}\tERROR\tInvoke Error \t\{{", line)
    error = json.loads(line.split("\tInvoke Error \t", 1)[1])
    assert error["errorType"] == "Error" and error["errorMessage"] == "asked to fail"
    assert error["stack"][0] == "Error: asked to fail"
    assert "/esm/index.mjs:" in error["stack"][1]
    assert f"[Esm {request_id}] END RequestId: {request_id}" in gateway.logs


def test_the_caller_gets_the_node_runtimes_error_payload(app):
    def message(action):
        return {"requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "c=", "stage": "prod", "domainName": "localhost"}, "body": json.dumps({"action": action})}

    thrown, string = invoke(app.write(), [message("boom"), message("throw-string")], function="Esm", isolation="process")
    value = thrown.invocation.value
    assert list(value) == ["errorType", "errorMessage", "trace"]  # "trace", not Python's "stackTrace"
    assert value["errorType"] == "Error" and value["errorMessage"] == "asked to fail"
    assert value["trace"][0] == "Error: asked to fail" and "index.mjs:" in value["trace"][1]
    assert thrown.invocation.error_type == "Error"
    assert string.invocation.value == {"errorType": "string", "errorMessage": "a string", "trace": []}


def test_a_post_to_the_endpoint_built_from_the_event(ws):
    # https://{domainName}/{stage}, AWS's documented pattern: answered by the local gateway (callbacks.mjs)
    assert json.loads(ask(ws, "domain")) == {"via": "domain"}  # the post, then the route's own reply
    assert ws.recv() == "posted"


# -- environments that fail or are inspected: a gateway of their own ---------------------------------------


@pytest.mark.parametrize(
    ("file", "source", "expected"),
    [
        ("index.js", 'const pad = require("no-such-package");\nexports.handler = async () => ({});\n',
         "Bad: Runtime.ImportModuleError: Error: Cannot find module 'no-such-package'"),
        ("other.js", "exports.handler = async () => ({});\n",
         "Bad: Runtime.ImportModuleError: Error: Cannot find module 'index'"),
        ("index.mjs", 'import pad from "no-such-package";\nexport const handler = async () => ({});\n',
         "Bad: Error: Cannot find package 'no-such-package' imported from "),
        ("index.mjs", "export const other = async () => ({});\n",
         "Bad: Runtime.HandlerNotFound: index.handler is undefined or not exported"),
    ],
)  # fmt: skip
def test_an_init_error_stops_the_gateway_with_one_line_naming_the_function(node_app, file, source, expected):
    node_app.file(f"bad/{file}", source)
    template = node_app.function("Bad", "index.handler", "bad").route("$default", "Bad").write()
    gateway = LocalGateway(template, dynamodb=False, isolation="process")
    with pytest.raises(EmulatorError) as caught:
        gateway.start()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)
    # The whole error is in the log, as the runtime writes it during init (no request id yet).
    uncaught = [line for line in gateway.logs if "\tundefined\tERROR\tUncaught Exception \t" in line]
    assert len(uncaught) == 1 and uncaught[0].startswith("[Bad] ")
    assert any(line.startswith("[Bad] INIT_REPORT Init Duration: ") and "Status: error" in line for line in gateway.logs)


@pytest.mark.parametrize("node_options", [None, "--experimental-require-module"])
def test_require_of_an_es_module_fails_as_on_lambda_unless_node_options_turns_it_on(node_app, node_options):
    node_app.file("req/lib.mjs", "export const answer = 42;\n")
    node_app.file("req/index.js", 'const { answer } = require("./lib.mjs");\nexports.handler = async () => ({ statusCode: 200, body: String(answer) });\n')
    env = {"NODE_OPTIONS": node_options} if node_options else None
    template = node_app.function("Req", "index.handler", "req", env=env).route("$default", "Req", two_way=True).write()
    gateway = LocalGateway(template, dynamodb=False, isolation="process")
    if node_options is None:  # Lambda starts node with --no-experimental-require-module
        with pytest.raises(EmulatorError, match=r"^Req: Error: require\(\) of ES Module .*/req/lib\.mjs from .*/req/index\.js not supported"):
            gateway.start()
        return
    with gateway:
        ws = websocket.create_connection(gateway.url, timeout=15)
        try:
            assert ask(ws, "x") == "42"
        finally:
            ws.close()


# What Lambda sets for a nodejs20.x function (lambda-runtime-reference §2.1, recorded from AWS).
LAMBDA_NODE = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_EXECUTION_ENV", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "NODE_PATH",
    "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT",
    "AWS_XRAY_CONTEXT_MISSING", "PWD", "SHLVL",
}  # fmt: skip


def test_a_node_environment_has_lambdas_variables_and_none_of_the_parents(node_app, node_runtime, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPARENTSHOULDNOTLEAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_PROFILE", "parent-profile")
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=1")
    node_app.file("esm/index.mjs", ESM)
    template = node_app.function("Esm", "index.handler", "esm", runtime="nodejs22.x", env={"GREETING": "hi"})
    template = template.route("$default", "Esm", two_way=True).write()
    with LocalGateway(template, dynamodb=False, isolation="process") as gw:
        ws = websocket.create_connection(gw.url, timeout=15)
        try:
            answer = json.loads(ask(ws, "env"))
        finally:
            ws.close()
    env, task = answer["env"], str((node_app.root / "esm").resolve())
    assert set(env) == LAMBDA_NODE | {"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "AWS_ENDPOINT_URL_LAMBDA", "GREETING"}
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == env["AWS_SESSION_TOKEN"] == "local"
    # AWS's order: layers' node22 and generic folders (none here), the runtime's SDK, the runtime, the task.
    assert env["NODE_PATH"] == f"{node_runtime}/node_modules:{node_runtime}:{task}"
    assert env["LAMBDA_RUNTIME_DIR"] == str(node_runtime)
    assert env["LAMBDA_TASK_ROOT"] == env["PWD"] == answer["cwd"] == task
    assert env["_HANDLER"] == "index.handler" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs22.x"
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8" and "LC_CTYPE" not in env
    assert env["GREETING"] == "hi"
