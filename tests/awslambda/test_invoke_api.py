"""The Lambda Invoke API of the local gateway, called with an unmodified boto3 client (and from functions):
every invocation type, the name/ARN/qualifier forms, each error the service returns, the log tail, and
async retries counted from the function's own side effects (lambda-runtime-reference §6, §1.4, §1.5, §7)."""

from __future__ import annotations

# ruff: noqa: E501 - the template and handler module are text, kept on readable lines
import base64
import itertools
import json
import re
import threading
import time
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from emukit import HEADER, integration, route

from wsapp.emulator import AsyncInvoke, LocalGateway
from wsapp.emulator.awslambda import function_names

pytestmark = pytest.mark.timeout(90)
ACCOUNT, REGION = "123456789012", "us-east-1"
RETRY_DELAYS = (0.3, 0.6)

HANDLERS = '''\
"""Handlers for the Invoke API tests: each leaves a trace the test can check."""

import json
import os
import time

import boto3

_client = None


def _lambda():
    global _client
    if _client is None:
        _client = boto3.client("lambda")  # endpoint: AWS_ENDPOINT_URL_LAMBDA
    return _client


def echo(event, context):
    print("echo", json.dumps(event))
    return {"event": event, "invoked_arn": context.invoked_function_arn, "request_id": context.aws_request_id}


def fail(event, context):
    raise ValueError("boom")


def flaky(event, context):
    with open(event["log"], "a") as f:
        f.write(json.dumps({"id": context.aws_request_id, "t": time.monotonic()}) + "\\n")
    if event.get("fail", True):
        raise RuntimeError("try again")
    return "ok"


def big(event, context):
    return "x" * (7 * 1024 * 1024)


def slow(event, context):
    time.sleep(event.get("sleep", 1.0))
    return "slept"


def hang(event, context):
    time.sleep(5)


def chatty(event, context):
    for i in range(200):
        print(f"line {i:03d} " + "." * 40)
    return "done"


def chain(event, context):
    answer = _lambda().invoke(FunctionName=os.environ[event["via"]], Payload=json.dumps({"from": "chain"}))
    return {"payload": json.loads(answer["Payload"].read()), "version": answer["ExecutedVersion"]}


def recurse(event, context):
    depth = event["depth"]
    if depth == 0:
        return 0
    answer = _lambda().invoke(FunctionName=context.function_name, Payload=json.dumps({"depth": depth - 1}))
    return 1 + json.loads(answer["Payload"].read())
'''


def fn(name: str, handler: str, extra: str = "") -> str:
    return f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: invoke_lab.{handler}\n{extra}"


TEMPLATE = (
    HEADER
    + fn("Echo", "echo", "      AutoPublishAlias: live\n")
    + integration("EchoIntegration", "Echo")
    + route("DefaultRoute", "$default", "EchoIntegration")
    + fn("Cold", "echo")
    + fn("Fail", "fail")
    + fn("Flaky", "flaky")
    + fn("FlakyOnce", "flaky", "      EventInvokeConfig:\n        MaximumRetryAttempts: 1\n")
    + fn("Big", "big", "      MemorySize: 256\n")
    + fn("Slow", "slow", "      ReservedConcurrentExecutions: 1\n      Timeout: 10\n")
    + fn("Hang", "hang", "      Timeout: 1\n")
    + fn("Chatty", "chatty")
    + fn(
        "Chain",
        "chain",
        "      Environment:\n        Variables:\n          ECHO_ARN: !GetAtt Echo.Arn\n"
        "          ECHO_NAME: !Ref Echo\n          ECHO_ALIAS: !Ref Echo.Alias\n",
    )
    + fn("Recurse", "recurse", "      Timeout: 30\n")
)


@pytest.fixture(scope="module", params=["process", "thread"])
def gw(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"invoke-{request.param}")
    (root / "invoke_lab.py").write_text(HANDLERS)
    (root / "template.yaml").write_text(TEMPLATE)
    settings = AsyncInvoke(retry_delays=RETRY_DELAYS)
    with LocalGateway(
        root / "template.yaml", isolation=request.param, concurrency=2, async_invoke=settings
    ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def client(gw):
    return lambda_client(gw.lambda_endpoint)


def lambda_client(endpoint: str):
    config = Config(retries={"total_max_attempts": 1}, read_timeout=60)
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def name(gw, logical: str) -> str:
    return gw.model.functions[logical].name


def arn(gw, logical: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name(gw, logical)}"


def payload(answer) -> object:
    return json.loads(answer["Payload"].read())


def wait_for_lines(path: Path, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"{path} has {len(lines)} lines, not {count}")


# -- the model and the pools --------------------------------------------------------------------------


def test_every_function_has_a_pool_and_only_route_functions_start_warm(gw, client):
    assert set(gw.model.functions) == set(gw.runtimes) >= {"Echo", "Cold", "Flaky", "Recurse"}
    assert gw.model.routed_functions == {"Echo"}
    if gw.isolation == "process":
        assert gw.runtimes["Echo"].live == 1
    assert gw.runtimes["Cold"].live == 0

    client.invoke(FunctionName=name(gw, "Cold"))

    assert gw.runtimes["Cold"].live == 1


def test_the_functions_get_the_lambda_endpoint(gw):
    assert gw.runtimes["Chain"].environment["AWS_ENDPOINT_URL_LAMBDA"] == gw.lambda_endpoint
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", gw.lambda_endpoint)


# -- RequestResponse ----------------------------------------------------------------------------------


def test_request_response_answers_200_with_the_functions_payload(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Echo"), Payload=json.dumps({"n": 1}))

    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer and "LogResult" not in answer
    body = payload(answer)
    assert body["event"] == {"n": 1}
    assert body["invoked_arn"] == arn(gw, "Echo")  # unqualified, as invoked
    assert answer["ResponseMetadata"]["RequestId"] == body["request_id"]


def test_an_empty_payload_reaches_the_function_as_an_empty_object(gw, client):
    assert payload(client.invoke(FunctionName=name(gw, "Echo")))["event"] == {}


@pytest.mark.parametrize(
    ("form", "qualifier", "version", "suffix"),
    [
        ("{name}", None, "$LATEST", ""),
        ("{arn}", None, "$LATEST", ""),
        (f"{ACCOUNT}:function:{{name}}", None, "$LATEST", ""),
        ("{name}:$LATEST", None, "$LATEST", ":$LATEST"),
        ("{name}", "$LATEST", "$LATEST", ":$LATEST"),
        ("{name}:live", None, "1", ":live"),
        ("{arn}:live", None, "1", ":live"),
        ("{name}", "live", "1", ":live"),
        ("{name}:live", "live", "1", ":live"),
        ("{name}:1", None, "1", ":1"),
        ("{name}", "1", "1", ":1"),
    ],
)
def test_a_function_is_named_by_name_arn_or_partial_arn_with_a_qualifier(
    gw, client, form, qualifier, version, suffix
):
    function_name = form.format(name=name(gw, "Echo"), arn=arn(gw, "Echo"))
    extra = {"Qualifier": qualifier} if qualifier else {}

    answer = client.invoke(FunctionName=function_name, **extra)

    assert answer["ExecutedVersion"] == version
    assert payload(answer)["invoked_arn"] == arn(gw, "Echo") + suffix


@pytest.mark.parametrize(
    ("form", "qualifier", "missing"),
    [
        ("nope", None, "nope:$LATEST"),
        ("{name}:nope", None, "{name}:nope"),
        ("{name}", "2", "{name}:2"),
        ("{name}", "$LATEST.PUBLISHED", "{name}:$LATEST.PUBLISHED"),
    ],
)
def test_an_unknown_function_or_qualifier_is_resource_not_found(gw, client, form, qualifier, missing):
    extra = {"Qualifier": qualifier} if qualifier else {}

    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName=form.format(name=name(gw, "Echo")), **extra)

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    expected = f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:" + missing.format(
        name=name(gw, "Echo")
    )
    assert error["Error"]["Message"] == expected
    assert error["Type"] == "User"


def test_a_function_of_another_region_is_not_found(gw, client):
    other = arn(gw, "Echo").replace(REGION, "eu-west-1")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="eu-west-1"):
        client.invoke(FunctionName=other)


def test_a_qualifier_in_the_name_and_a_different_one_in_the_query_is_invalid(gw, client):
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="derived qualifier"):
        client.invoke(FunctionName=name(gw, "Echo") + ":live", Qualifier="$LATEST")


def test_a_function_error_is_200_unhandled_with_the_runtimes_error_document(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Fail"))

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = payload(answer)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (error["errorMessage"], error["errorType"]) == ("boom", "ValueError")
    assert error["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert any("invoke_lab.py" in frame and "in fail" in frame for frame in error["stackTrace"])


def test_a_timeout_is_200_unhandled_with_the_platforms_error(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Hang"))

    assert answer["FunctionError"] == "Unhandled"
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert payload(answer) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }


def test_a_response_past_6_mb_is_a_function_error(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Big"))

    assert answer["FunctionError"] == "Unhandled"
    assert payload(answer) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def test_log_type_tail_returns_the_last_4_kb_of_the_invocations_log(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Chatty"), LogType="Tail")

    log = base64.b64decode(answer["LogResult"])
    assert 4000 < len(log) <= 4096
    text = log.decode()
    assert "line 199 " in text and "line 000 " not in text
    if gw.isolation == "process":  # the platform's lines frame the invocation (thread isolation has none)
        request_id = answer["ResponseMetadata"]["RequestId"]
        assert text.splitlines()[-2:-1] == [f"END RequestId: {request_id}"]
        assert text.splitlines()[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def test_the_log_tail_holds_only_that_invocations_lines(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Echo"), LogType="Tail", Payload=b'{"mark": 7}')

    lines = base64.b64decode(answer["LogResult"]).decode().splitlines()
    assert 'echo {"mark": 7}' in lines
    if gw.isolation == "process":
        request_id = answer["ResponseMetadata"]["RequestId"]
        assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
        assert all("RequestId" not in line or request_id in line for line in lines)


# -- Event and DryRun ---------------------------------------------------------------------------------


def test_an_event_invocation_is_202_and_retried_twice_on_error(gw, client, tmp_path):
    log = tmp_path / "flaky.jsonl"
    answer = client.invoke(
        FunctionName=name(gw, "Flaky"), InvocationType="Event", Payload=json.dumps({"log": str(log)})
    )

    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    attempts = wait_for_lines(log, 3)
    assert {a["id"] for a in attempts} == {answer["ResponseMetadata"]["RequestId"]}  # one request id
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= RETRY_DELAYS[0] and gaps[1] >= RETRY_DELAYS[1]
    time.sleep(sum(RETRY_DELAYS) + 0.5)
    assert len(log.read_text().splitlines()) == 3  # no fourth attempt
    assert any("async invocation dropped (RetriesExhausted)" in line for line in gw.logs)


def test_event_invoke_config_sets_the_number_of_retries(gw, client, tmp_path):
    log = tmp_path / "once.jsonl"
    client.invoke(
        FunctionName=name(gw, "FlakyOnce"), InvocationType="Event", Payload=json.dumps({"log": str(log)})
    )

    wait_for_lines(log, 2)
    time.sleep(sum(RETRY_DELAYS) + 0.5)
    assert len(log.read_text().splitlines()) == 2


def test_a_successful_event_invocation_runs_once(gw, client, tmp_path):
    log = tmp_path / "ok.jsonl"
    client.invoke(
        FunctionName=name(gw, "Flaky"),
        InvocationType="Event",
        Payload=json.dumps({"log": str(log), "fail": False}),
    )

    wait_for_lines(log, 1)
    time.sleep(RETRY_DELAYS[0] + 0.5)
    assert len(log.read_text().splitlines()) == 1


def test_dry_run_is_204_and_runs_nothing(gw, client, tmp_path):
    log = tmp_path / "dry.jsonl"
    answer = client.invoke(
        FunctionName=name(gw, "Flaky"), InvocationType="DryRun", Payload=json.dumps({"log": str(log)})
    )

    assert answer["StatusCode"] == 204
    time.sleep(0.5)
    assert not log.exists()


# -- request errors -----------------------------------------------------------------------------------


def test_a_payload_that_is_not_json_is_invalid_request_content(gw, client):
    with pytest.raises(client.exceptions.InvalidRequestContentException) as caught:
        client.invoke(FunctionName=name(gw, "Echo"), Payload=b"{not json")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )


def test_a_sync_request_past_6_mb_is_413_request_entity_too_large(gw, client):
    body = json.dumps("x" * (6 * 1024 * 1024)).encode()
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName=name(gw, "Echo"), Payload=body)

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"  # AWS's code, not the model's name
    assert (
        error["Error"]["Message"]
        == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_an_event_request_past_1_mb_is_413_but_a_sync_one_is_accepted(gw, client):
    body = json.dumps({"blob": "x" * (1024 * 1024)}).encode()

    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName=name(gw, "Echo"), InvocationType="Event", Payload=body)
    error = caught.value.response["Error"]
    assert error["Code"] == "RequestEntityTooLargeException"
    assert (
        error["Message"]
        == f"{len(body)} byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    assert (
        len(payload(client.invoke(FunctionName=name(gw, "Echo"), Payload=body))["event"]["blob"])
        == 1024 * 1024
    )


def test_reserved_concurrency_throttles_a_second_caller_with_429(gw, client):
    first: dict = {}
    worker = threading.Thread(
        target=lambda: first.update(client.invoke(FunctionName=name(gw, "Slow"), Payload=b'{"sleep": 2}'))
    )
    worker.start()
    deadline = time.monotonic() + 5
    while gw.runtimes["Slow"].live == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)

    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.invoke(FunctionName=name(gw, "Slow"), Payload=b'{"sleep": 0}')

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["Error"]["Message"] == "Rate Exceeded."
    worker.join(10)
    assert json.loads(first["Payload"].read()) == "slept"


# -- from the functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("via", "version", "suffix"),
    [("ECHO_ARN", "$LATEST", ""), ("ECHO_NAME", "$LATEST", ""), ("ECHO_ALIAS", "1", ":live")],
)
def test_a_function_invokes_another_by_the_ref_or_arn_in_its_environment(gw, client, via, version, suffix):
    answer = payload(client.invoke(FunctionName=name(gw, "Chain"), Payload=json.dumps({"via": via})))

    assert answer["version"] == version
    assert answer["payload"]["event"] == {"from": "chain"}
    assert answer["payload"]["invoked_arn"] == arn(gw, "Echo") + suffix


def test_a_function_invoking_itself_scales_past_the_local_concurrency(gw, client):
    answer = client.invoke(FunctionName=name(gw, "Recurse"), Payload=json.dumps({"depth": 5}))

    assert payload(answer) == 5
    assert gw.runtimes["Recurse"].live >= 6 > gw.concurrency  # six waiting on each other at once


def test_the_embedded_services_refuse_lambda_calls_naming_the_lambda_endpoint(gw):
    if gw.dynamodb is None:
        pytest.skip("no embedded services")
    with pytest.raises(ClientError) as caught:
        lambda_client(gw.dynamodb.endpoint).invoke(FunctionName=name(gw, "Echo"))

    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"
    assert gw.lambda_endpoint in caught.value.response["Error"]["Message"]


# -- the request patterns are the service model's ------------------------------------------------------


def test_the_name_and_qualifier_patterns_accept_what_the_service_model_accepts():
    model = botocore.session.get_session().get_service_model("lambda").operation_model("Invoke").input_shape
    name_pattern = re.compile(model.members["FunctionName"].metadata["pattern"])
    qualifier_pattern = re.compile(model.members["Qualifier"].metadata["pattern"])
    names = [
        "f", "my-function", "my_function.v2", "my-function:live", "my-function:$LATEST", "my-function:7",
        f"{ACCOUNT}:function:f", f"{ACCOUNT}:function:f:live", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:$LATEST.PUBLISHED", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        "us-gov-west-1:function:f", "f:a:b", "", "f g", "arn:aws:s3:::bucket", "f:", "function:", "f:$LATES",
    ]  # fmt: skip
    for text in names:
        assert bool(function_names.FUNCTION_NAME.fullmatch(text)) == bool(name_pattern.fullmatch(text)), text
    for text in ["$LATEST", "$LATEST.PUBLISHED", "live", "1", "a$b", "", "x y", "$"]:
        assert bool(function_names.QUALIFIER.fullmatch(text)) == bool(qualifier_pattern.fullmatch(text)), text
    assert function_names._PATTERN_TEXT == model.members["FunctionName"].metadata["pattern"]


# -- from Node.js -------------------------------------------------------------------------------------

NODE_CALLER = """\
import { LambdaClient, InvokeCommand } from "@aws-sdk/client-lambda";

const client = new LambdaClient({});  // endpoint: AWS_ENDPOINT_URL_LAMBDA

export const handler = async (event) => {
  const sync = await client.send(new InvokeCommand({ FunctionName: process.env.ECHO, Qualifier: "live", Payload: JSON.stringify({ from: "node" }) }));
  const failed = await client.send(new InvokeCommand({ FunctionName: process.env.FAIL }));
  const queued = await client.send(new InvokeCommand({ FunctionName: process.env.FLAKY, InvocationType: "Event", Payload: JSON.stringify({ log: event.log, fail: false }) }));
  let missing;
  try {
    await client.send(new InvokeCommand({ FunctionName: "nope" }));
  } catch (error) {
    missing = `${error.name}: ${error.message}`;
  }
  return {
    echo: JSON.parse(Buffer.from(sync.Payload).toString()),
    version: sync.ExecutedVersion,
    functionError: failed.FunctionError,
    errorType: JSON.parse(Buffer.from(failed.Payload).toString()).errorType,
    eventStatus: queued.StatusCode,
    missing,
  };
};
"""


def test_a_nodejs_function_invokes_with_the_sdk_for_javascript(node_runtime, tmp_path):
    (tmp_path / "invoke_lab.py").write_text(HANDLERS)
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "index.mjs").write_text(NODE_CALLER)
    caller = (
        "  Caller:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: nodejs20.x\n"
        "      Handler: index.handler\n      CodeUri: node\n      Timeout: 10\n"
        "      Environment:\n        Variables:\n          ECHO: !Ref Echo\n          FAIL: !GetAtt Fail.Arn\n          FLAKY: !Ref Flaky\n"
    )
    template = tmp_path / "template.yaml"
    template.write_text(
        HEADER + fn("Echo", "echo", "      AutoPublishAlias: live\n") + integration("EchoIntegration", "Echo")
        + route("DefaultRoute", "$default", "EchoIntegration") + fn("Fail", "fail") + fn("Flaky", "flaky") + caller
    )  # fmt: skip
    log = tmp_path / "from-node.jsonl"
    with LocalGateway(template, isolation="process") as gw:
        answer = lambda_client(gw.lambda_endpoint).invoke(
            FunctionName=name(gw, "Caller"), Payload=json.dumps({"log": str(log)})
        )
        assert "FunctionError" not in answer, answer["Payload"].read()
        result = payload(answer)
        assert result["echo"]["event"] == {"from": "node"}
        assert result["echo"]["invoked_arn"] == arn(gw, "Echo") + ":live"
        assert result["version"] == "1"
        assert (result["functionError"], result["errorType"]) == ("Unhandled", "ValueError")
        assert result["eventStatus"] == 202
        assert (
            result["missing"]
            == f"ResourceNotFoundException: Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope:$LATEST"
        )
        assert len(wait_for_lines(log, 1)) == 1
