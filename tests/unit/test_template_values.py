"""Ref and Fn::GetAtt give what CloudFormation gives, names set by intrinsics included (issue 11 §2, §6)."""

from __future__ import annotations

# ruff: noqa: E501 - the template is text, kept on readable lines
import re

import pytest

from wsapp.emulator import TemplateError
from wsapp.emulator.template import load_app

TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Parameters:
  TableName:
    Type: String
    Default: chat_connections
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: "$request.body.action"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !GetAtt Api.ApiId, StageName: prod}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Ref TableName
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Messages:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${TableName}-messages-${AWS::Region}"
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Sub "${AWS::StackName}-events"}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Runtime: python3.12
      Tags: {unused: !GetAtt Topic.SomethingNobodyReads}
      Environment:
        Variables:
          TABLE: !Ref Table
          MESSAGES: !Ref Messages
          TABLE_ARN: !GetAtt Table.Arn
          STREAM: !GetAtt Table.StreamArn
          API: !GetAtt Api.ApiId
          ENDPOINT: !GetAtt Api.ApiEndpoint
          QUEUE_URL: !Ref Queue
          QUEUE_ARN: !GetAtt Queue.Arn
          TOPIC: !Ref Topic
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  Default:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Sub "integrations/${Integration}"}
"""


@pytest.fixture
def written(tmp_path):
    def write(text: str = TEMPLATE):
        (tmp_path / "template.yaml").write_text(text)
        (tmp_path / "app.py").write_text("def handler(event, context):\n    return {}\n")
        return tmp_path / "template.yaml"

    return write


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "child-process"])
def test_names_arns_and_urls_resolve_as_cloudformation_gives_them(written, isolated):
    app = load_app(written(), isolated=isolated)  # isolated: translated in a child (as wsapp local does)
    suffix = app.account.name_suffix  # CloudFormation's random suffix: here fixed per template file
    assert re.fullmatch(r"[0-9A-F]{12}", suffix)
    env = app.functions["Fn"].environment
    assert env["TABLE"] == "chat_connections"
    assert env["MESSAGES"] == "chat_connections-messages-us-east-1"
    assert env["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/chat_connections"
    assert env["STREAM"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/chat_connections/stream/")
    assert env["API"] == app.api_id
    assert env["ENDPOINT"] == f"wss://{app.api_id}.execute-api.us-east-1.amazonaws.com"
    assert env["QUEUE_URL"] == f"https://sqs.us-east-1.amazonaws.com/123456789012/wsapp-local-Queue-{suffix}"
    assert env["QUEUE_ARN"] == f"arn:aws:sqs:us-east-1:123456789012:wsapp-local-Queue-{suffix}"
    assert env["TOPIC"] == "arn:aws:sns:us-east-1:123456789012:wsapp-local-events"
    assert app.stage == "prod"  # the stage found through !GetAtt Api.ApiId
    assert {t.name for t in app.tables} == {"chat_connections", "chat_connections-messages-us-east-1"}


def test_an_attribute_the_emulator_cannot_give_is_one_line_naming_resource_and_attribute(written):
    text = TEMPLATE.replace("TOPIC: !Ref Topic", "TOPIC: !GetAtt Topic.NoSuchAttribute")
    with pytest.raises(TemplateError) as caught:
        load_app(written(text))
    assert str(caught.value) == "Fn: Fn::GetAtt Topic.NoSuchAttribute is not supported locally"


def test_a_stream_declared_without_stream_enabled_is_created(written):
    from wsapp.emulator import LocalGateway

    with LocalGateway(written(), isolation="thread") as gw:
        import boto3

        client = boto3.client(
            "dynamodb", endpoint_url=gw.dynamodb.endpoint, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        table = client.describe_table(TableName="chat_connections")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


WORKERS = """\
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      EventInvokeConfig: {MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120}
  Unused:
    Type: AWS::Serverless::Function
    Condition: Never
    Properties: {CodeUri: ., Handler: app.handler, Runtime: python3.12}
  Inline:
    Type: AWS::Lambda::Function
    Properties: {Handler: index.handler, Runtime: python3.12, Role: arn:aws:iam::123456789012:role/r, Code: {ZipFile: "x"}}
  Beta:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !GetAtt Worker.Arn, FunctionVersion: $LATEST, Name: beta}
  Other:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: arn:aws:lambda:us-east-1:123456789012:function:elsewhere}
"""
WORKER_VARIABLES = "\n          ALIAS: !Ref Worker.Alias\n          WORKER: !Ref Worker\n          WORKER_ARN: !GetAtt Worker.Arn"


def test_every_function_is_in_the_model_with_its_versions_aliases_and_async_config(written):
    text = TEMPLATE.replace("Resources:\n", "Conditions:\n  Never: !Equals [a, b]\nResources:\n" + WORKERS, 1)
    app = load_app(written(text.replace("TOPIC: !Ref Topic", "TOPIC: !Ref Topic" + WORKER_VARIABLES)))

    # Worker is on no route and still a function of the model; Unused's condition is false; Inline's
    # ZipFile is its index.py; Other publishes another stack's function.
    assert set(app.functions) == {"Fn", "Worker", "Inline"}
    assert (app.functions["Inline"].code_root / "index.py").read_text() == "x"
    assert app.routed_functions == {"Fn"}
    worker = app.functions["Worker"]
    assert worker.versions == ("1",)
    assert worker.aliases == {"live": "1", "beta": "$LATEST"}
    assert {k: (v.max_retries, v.max_event_age) for k, v in worker.async_configs.items()} == {
        "live": (0, 120)
    }
    env = app.functions["Fn"].environment
    worker_name = f"wsapp-local-Worker-{app.account.name_suffix}"
    assert env["WORKER"] == worker_name
    assert env["WORKER_ARN"] == f"arn:aws:lambda:us-east-1:123456789012:function:{worker_name}"
    assert env["ALIAS"] == env["WORKER_ARN"] + ":live"


def test_an_event_invoke_config_out_of_the_apis_range_is_one_line(written):
    text = TEMPLATE.replace("Resources:\n", "Conditions:\n  Never: !Equals [a, b]\nResources:\n" + WORKERS, 1)
    with pytest.raises(TemplateError) as caught:
        load_app(written(text.replace("MaximumRetryAttempts: 0", "MaximumRetryAttempts: 5")))
    assert str(caught.value) == "WorkerEventInvokeConfig: MaximumRetryAttempts 5 is not between 0 and 2"


def test_two_templates_get_names_of_their_own_and_one_template_keeps_its_names(tmp_path):
    # Two stacks never share a generated name on AWS (CloudFormation's random suffix); the embedded
    # services are shared by every gateway in a process, so two templates must not either.
    names = []
    for folder in ("one", "two", "one"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "template.yaml").write_text(TEMPLATE)
        (tmp_path / folder / "app.py").write_text("def handler(event, context):\n    return {}\n")
        app = load_app(tmp_path / folder / "template.yaml")
        names.append(app.functions["Fn"].environment["QUEUE_URL"])
    assert names[0] != names[1] and names[0] == names[2]
