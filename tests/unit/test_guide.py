"""wsapp.guide and translate_file: the notebooks' display helpers over the real template."""

import gc
import logging

import pytest

from wsapp import guide
from wsapp.auth import LOCAL_DEV_SECRET
from wsapp.emulator.template import translate_file
from wsapp.testing import TEMPLATE, load_event


def test_translate_file_gives_plain_cloudformation_without_a_stray_warning(caplog):
    with caplog.at_level(logging.WARNING):
        cfn = translate_file(TEMPLATE, dev_secret=LOCAL_DEV_SECRET)
        gc.collect()  # samtranslator warns about unpublished metrics when its Metrics object is collected
    assert "Transform" not in cfn
    assert guide.resource_counts(cfn)["AWS::Lambda::Function"] == 2
    assert not [r for r in caplog.records if "unpublished metrics" in r.getMessage()]


def test_route_chains_follow_route_integration_function_handler():
    chains = {c["routeKey"]: c for c in guide.route_chains(translate_file(TEMPLATE, dev_secret="x" * 32))}
    assert sorted(chains) == ["$connect", "$default", "$disconnect", "ping"]
    assert {c["handler"] for c in chains.values()} == {"wsapp.handlers.websocket.handler"}
    assert chains["$connect"]["authorizer"]["handler"] == "wsapp.handlers.authorizer.handler"
    assert "authorizer" not in chains["$default"]


def test_iam_statements_per_role():
    roles = guide.iam_statements(translate_file(TEMPLATE, dev_secret="x" * 32))
    assert roles["AuthorizerFunctionRole"]["statements"] == []
    sids = [s["Sid"] for s in roles["WebSocketFunctionRole"]["statements"]]
    assert sids == ["ConnectionTable", "ManageConnections"]


def test_shape_lists_sorted_keys():
    shape = guide.shape(load_event("message_marco"))
    assert shape["keys"] == ["body", "isBase64Encoded", "requestContext"]
    assert "messageId" in shape["requestContext"]


def test_show_prints_sorted_json(capsys):
    guide.show({"b": 1, "a": ["é"]})
    assert capsys.readouterr().out == '{\n  "a": [\n    "é"\n  ],\n  "b": 1\n}\n'


def test_template_source_gives_each_entry_as_written_with_its_comment(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  # the API\n"
        "  Api:\n"
        "    Type: AWS::ApiGatewayV2::Api\n"
        "    Properties:\n"
        "      # a deeper comment stays\n"
        "      Name: !Sub '${AWS::StackName}'\n"
        "\n"
        "  Other:\n"
        "    Type: AWS::SNS::Topic\n"
        "Outputs:\n"
        "  Url:\n"
        "    Value: !Ref Api\n"
    )
    assert guide.template_source(path, "Url", "Api") == (
        "  # the API\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n    Properties:\n"
        "      # a deeper comment stays\n      Name: !Sub '${AWS::StackName}'\n\n  Url:\n    Value: !Ref Api"
    )
    with pytest.raises(KeyError, match=r"not in template\.yaml: Missing"):
        guide.template_source(path, "Api", "Missing")


def test_settled_prints_every_line_but_the_events_still_in_progress(capsys):
    for line in [
        "uploaded s3://b/wsapp/k.zip (9 bytes)",
        "06:25:31 CREATE_IN_PROGRESS           Table  AWS::DynamoDB::Table",
        "06:25:31 CREATE_COMPLETE              Table  AWS::DynamoDB::Table",
        "06:25:31 DELETE_SKIPPED               FnVersion0a1b2c3d4e AWS::Lambda::Version",
    ]:
        guide.settled(line)
    assert capsys.readouterr().out.splitlines() == [
        "uploaded s3://b/wsapp/k.zip (9 bytes)",
        "06:25:31 CREATE_COMPLETE              Table  AWS::DynamoDB::Table",
        "06:25:31 DELETE_SKIPPED               FnVersion0a1b2c3d4e AWS::Lambda::Version",
    ]


async def test_sampled_reads_a_value_while_the_work_runs():
    import asyncio

    state = {"n": 0}

    async def work():
        for _ in range(5):
            state["n"] += 1
            await asyncio.sleep(0.02)
        return "done"

    result, samples = await guide.sampled(work(), lambda: state["n"], every=0.005)
    assert result == "done"
    assert samples[0][1] <= 1 and samples[-1][1] == 5
    assert [t for t, _ in samples] == sorted(t for t, _ in samples)
    assert len({v for _, v in samples}) >= 3  # seen along the way, not only at the end
