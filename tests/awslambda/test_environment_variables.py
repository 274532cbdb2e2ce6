"""An execution environment starts with exactly Lambda's variables, its own code, and nothing of ours."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import websocket
from lifekit import HEADER, ask, connect, function, integration, route, write_life, write_module

from wsapp.emulator import EmulatorError, LocalGateway

# What Lambda sets for a python3.12 function (lambda-runtime-reference §2.1, recorded from AWS).
LAMBDA_PYTHON = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_EXECUTION_ENV", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "LC_CTYPE", "PATH", "LD_LIBRARY_PATH",
    "PYTHONPATH", "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT",
    "AWS_XRAY_CONTEXT_MISSING", "PWD", "SHLVL",
}  # fmt: skip
WIRING = {  # the emulator's: where @connections and the Lambda API are
    "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
    "AWS_ENDPOINT_URL_LAMBDA",
}


@pytest.fixture
def parent_secrets(monkeypatch):
    """The user's own AWS identity, as a developer's shell has it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPARENTSHOULDNOTLEAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "parent-token")
    monkeypatch.setenv("AWS_PROFILE", "parent-profile")
    monkeypatch.setenv("WSAPP_TEST_PARENT_ONLY", "1")


def test_the_environment_has_exactly_lambdas_variables_and_none_of_the_parents(tmp_path, parent_secrets):
    template = write_life(tmp_path, env={"GREETING": "hi", "AWS_ENDPOINT_URL_S3": "http://example.invalid"})
    with LocalGateway(template, dynamodb=False, isolation="process") as gw:
        ws = connect(gw)
        try:
            answer = ask(ws)
        finally:
            ws.close()
        address = gw.runtimes["Fn"].environment["AWS_LAMBDA_RUNTIME_API"]
    env = answer["environ"]
    assert set(env) == LAMBDA_PYTHON | WIRING | {"GREETING", "AWS_ENDPOINT_URL_S3"}
    assert env["AWS_ACCESS_KEY_ID"] == "local" and env["AWS_SECRET_ACCESS_KEY"] == "local"
    assert env["AWS_SESSION_TOKEN"] == "local"
    code = str(tmp_path.resolve())
    assert env["LAMBDA_TASK_ROOT"] == env["PWD"] == answer["cwd"] == answer["path0"] == code
    assert env["_HANDLER"] == "life.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128" and env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8" and env["LC_CTYPE"] == "C.UTF-8"
    assert env["AWS_LAMBDA_RUNTIME_API"] == address and address.startswith("127.0.0.1:")
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)  # plays /var/lang/bin
    assert env["GREETING"] == "hi"


def test_with_tls_the_emulator_adds_only_the_variables_that_trust_its_ca(tmp_path):
    template = write_life(tmp_path / "app")
    with LocalGateway(
        template, dynamodb=False, isolation="process", tls=True, tls_dir=tmp_path / "tls"
    ) as gw:
        ws = websocket.create_connection(gw.url, timeout=10, sslopt={"ca_certs": gw.ca_bundle})
        try:
            env = ask(ws)["environ"]
        finally:
            ws.close()
    trust = {"AWS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"}
    assert set(env) == LAMBDA_PYTHON | WIRING | trust
    assert env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] == gw.management_endpoint
    assert env["NODE_EXTRA_CA_CERTS"] == gw.ca_bundle  # Node adds it to its roots
    # SSL_CERT_FILE replaces Python's roots: the bundle is the local CA followed by the usual public roots
    bundle = (tmp_path / "tls" / "trust.pem").read_text()
    assert env["SSL_CERT_FILE"] == env["AWS_CA_BUNDLE"] == str(tmp_path / "tls" / "trust.pem")
    assert (
        bundle.startswith((tmp_path / "tls" / "ca.pem").read_text())
        and bundle.count("BEGIN CERTIFICATE") > 10
    )


def test_a_template_may_not_set_a_reserved_variable(tmp_path):
    template = write_life(tmp_path, env={"AWS_REGION": "eu-west-1"})
    with pytest.raises(EmulatorError, match=r"^Fn: Environment\.Variables sets reserved keys .*AWS_REGION"):
        LocalGateway(template, dynamodb=False, isolation="process").start()


SAME_NAME = """\
import os

GREETING = os.environ["GREETING"]  # read once, at import, as many handlers do


def lambda_handler(event, context):
    return {{"statusCode": 200, "body": "{folder}: " + GREETING + " from " + __file__}}
"""


def write_same_named(folder: Path) -> Path:
    for name in ("onconnect", "sendmessage"):
        write_module(folder / name, "app.py", SAME_NAME.format(folder=name))
    text = (
        HEADER
        + function("ConnectFn", "app.lambda_handler", code="onconnect/", env={"GREETING": "hello"})
        + function("SendFn", "app.lambda_handler", code="sendmessage/", env={"GREETING": "bonjour"})
        + integration("ConnectIntegration", "ConnectFn")
        + integration("SendIntegration", "SendFn")
        + route("ConnectRoute", "$connect", "ConnectIntegration")
        + route("SendRoute", "sendmessage", "SendIntegration", two_way=True)
        + route("DefaultRoute", "$default", "ConnectIntegration", two_way=True)
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def test_functions_with_same_named_modules_in_different_folders_each_run_their_own(tmp_path):
    template = write_same_named(tmp_path)
    with LocalGateway(template, dynamodb=False, isolation="process") as gw:
        ws = connect(gw)
        try:
            ws.send(json.dumps({"action": "sendmessage"}))
            send = ws.recv()
            ws.send("anything")
            default = ws.recv()
        finally:
            ws.close()
    assert send == f"sendmessage: bonjour from {tmp_path.resolve()}/sendmessage/app.py"
    assert default == f"onconnect: hello from {tmp_path.resolve()}/onconnect/app.py"


def test_thread_isolation_refuses_same_named_modules_in_different_folders(tmp_path):
    template = write_same_named(tmp_path)
    with pytest.raises(EmulatorError) as caught:
        LocalGateway(template, dynamodb=False, isolation="thread").start()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("ConnectFn and SendFn both import module 'app'")
    assert message.endswith("use process isolation")


def test_env_vars_file_overrides_declared_variables_only(tmp_path):
    template = write_life(tmp_path, env={"GREETING": "hi", "COLOR": "red"})
    env_vars = {"Parameters": {"COLOR": "blue", "UNDECLARED": "x"}, "Fn": {"GREETING": "salut"}}
    with LocalGateway(template, dynamodb=False, isolation="process", env_vars=env_vars) as gw:
        ws = connect(gw)
        try:
            env = ask(ws)["environ"]
        finally:
            ws.close()
    assert (env["GREETING"], env["COLOR"]) == ("salut", "blue")
    assert "UNDECLARED" not in env  # as SAM CLI: only variables the template declares take values


def test_an_aws_profile_that_is_not_configured_does_not_stop_the_emulator(monkeypatch):
    # GIVEN a shell whose AWS_PROFILE names no configured profile (nothing local needs one)
    monkeypatch.setenv("AWS_PROFILE", "not-configured-anywhere")
    repo = Path(__file__).resolve().parents[2]
    # WHEN this repository's template (with its DynamoDB table) starts, THEN it runs
    with LocalGateway(repo / "template.yaml", isolation="process") as gw:
        assert gw.dynamodb is not None and gw.runtimes["WebSocketFunction"].live == 1
