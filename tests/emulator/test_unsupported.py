"""What the emulator cannot do is said in one line naming the resource, never skipped in silence: a
refusal where running anyway would pass what fails on AWS (AWS_IAM), else a warning at start (triggers
not run yet: the gateway still starts, and the functions can be invoked through the Invoke API)."""

from __future__ import annotations

# ruff: noqa: E501 - the templates are text, kept on readable lines
import io

import pytest
from emukit import HEADER, integration, route
from test_code_locations import ECHO, _template

from wsapp.emulator import LocalGateway
from wsapp.emulator.errors import TemplateError


def test_aws_iam_authorization_is_refused_in_one_line_not_silently_skipped(tmp_path):
    (tmp_path / "iam_app.py").write_text("WHO = 'iam'\n" + ECHO)
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: iam_app.handler, Runtime: python3.12}\n"
    text = _template(tmp_path, fn).read_text().replace('RouteKey: "$default"', 'RouteKey: "$connect"\n      AuthorizationType: AWS_IAM')
    (tmp_path / "template.yaml").write_text(text)
    with pytest.raises(TemplateError) as failure:
        LocalGateway(tmp_path / "template.yaml").start()
    assert str(failure.value).startswith("D: AuthorizationType AWS_IAM is not supported locally")

RESOURCES = """\
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Queue:
    Type: AWS::SQS::Queue
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Topic:
    Type: AWS::SNS::Topic
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: sources_app.handler
      Events:
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST}}
        Jobs: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
        Clicks: {Type: Kinesis, Properties: {Stream: !GetAtt Stream.Arn, StartingPosition: LATEST}}
        Notes: {Type: SNS, Properties: {Topic: !Ref Topic}}
        Orders: {Type: EventBridgeRule, Properties: {Pattern: {source: [shop]}}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
        Nightly: {Type: Schedule, Properties: {Schedule: "cron(0 3 * * ? *)"}}
        Later: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hour)}}
  Kafka:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: arn:aws:kafka:us-east-1:123456789012:cluster/orders/abc
      Topics: [orders]
      StartingPosition: LATEST
  Elsewhere:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: lambda
      Endpoint: arn:aws:lambda:us-east-1:123456789012:function:another-stacks-function
  ToStateMachine:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop]}
      Targets: [{Id: Flow, Arn: arn:aws:states:us-east-1:123456789012:stateMachine:orders}]
"""


def test_event_sources_and_schedules_not_run_yet_are_one_warning_each(tmp_path):
    (tmp_path / "sources_app.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    (tmp_path / "template.yaml").write_text(HEADER + RESOURCES + integration("I", "Fn") + route("D", "$default", "I"))
    out = io.StringIO()
    with LocalGateway(tmp_path / "template.yaml", logs=out):
        pass
    warnings = sorted(line for line in out.getvalue().splitlines() if line.startswith("warning: "))
    assert warnings == [
        "warning: Elsewhere: Endpoint is not a function of this template; not invoked locally",
        "warning: FnLater: AWS::Scheduler::Schedule targets are not triggered locally yet",
        "warning: FnNightly: ScheduleExpression cron(0 3 * * ? *) is not triggered locally (rate() is)",
        "warning: Kafka: the kafka event source mapping does not run locally yet",
        "warning: ToStateMachine: target Flow (states) is not delivered locally",
    ]  # the streams, the queue, the topic, the rule and the rate schedule run (tests/apps/test_*.py)


LOOP_OVER_A_RESOURCE = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: loop_app.handler
      Environment:
        Variables:
          Fn::ForEach::Vars: [Name, !GetAtt Table.Arn, {"VAR_${Name}": x}]
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


def test_a_loop_cloudformation_cannot_expand_is_one_line_naming_resource_and_loop(tmp_path):
    (tmp_path / "loop_app.py").write_text(ECHO)
    text = HEADER.replace("Transform: AWS::Serverless-2016-10-31", "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]")
    (tmp_path / "template.yaml").write_text(text + LOOP_OVER_A_RESOURCE + integration("I", "Fn") + route("D", "$default", "I"))
    with pytest.raises(TemplateError) as failure:
        LocalGateway(tmp_path / "template.yaml").start()
    assert str(failure.value) == (
        "Fn: Fn::ForEach::Vars: its collection must resolve from parameters and mappings"
        " (Fn::GetAtt Table.Arn is known only at deploy time)"
    )


def test_a_parameter_store_parameter_without_a_local_value_is_one_line(tmp_path):
    (tmp_path / "ssm_app.py").write_text(ECHO)
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: ssm_app.handler}\n"
    text = HEADER.replace("Resources:", "Parameters:\n  Key:\n    Type: AWS::SSM::Parameter::Value<String>\n    Default: /app/key\nResources:", 1)
    (tmp_path / "template.yaml").write_text(text + fn + integration("I", "Fn") + route("D", "$default", "I"))
    with pytest.raises(TemplateError, match=r"^parameter Key: reads Parameter Store entry '/app/key' at deploy time"):
        LocalGateway(tmp_path / "template.yaml").start()
    with LocalGateway(tmp_path / "template.yaml", parameters={"Key": "local"}) as gw:
        assert gw.model.parameters["Key"] == "local"


BAD_INTEGRATIONS = {
    "IntegrationType: VPC_LINK": "I: IntegrationType 'VPC_LINK' is not one of AWS_PROXY, AWS, MOCK, HTTP, HTTP_PROXY",
    "IntegrationType: AWS\n      IntegrationUri: https://example.com/x": "I: IntegrationUri 'https://example.com/x' is not an AWS service or Lambda URI",
    "IntegrationType: HTTP\n      IntegrationUri: ftp://example.com": "I: IntegrationUri 'ftp://example.com' of an HTTP integration is not a URL",
    "IntegrationType: MOCK\n      PassthroughBehavior: SOMETIMES": "I: PassthroughBehavior 'SOMETIMES' is not one of ('WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER')",
    "IntegrationType: MOCK\n      RequestParameters: {integration.request.header.X: 'method.request.header.Y'}": "I: RequestParameters: integration.request.header.X maps from 'method.request.header.Y', not a known source",
}


@pytest.mark.parametrize("props", sorted(BAD_INTEGRATIONS))
def test_an_integration_the_gateway_cannot_run_is_one_line_naming_it(tmp_path, props):
    (tmp_path / "np_app.py").write_text(ECHO)
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: np_app.handler}\n"
    text = f"  I:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n      ApiId: !Ref Api\n      {props}\n"
    (tmp_path / "template.yaml").write_text(HEADER + fn + text + route("D", "$default", "I"))
    with pytest.raises(TemplateError) as failure:
        LocalGateway(tmp_path / "template.yaml").start()
    assert str(failure.value) == BAD_INTEGRATIONS[props]


def test_a_bad_integration_response_key_is_one_line_too(tmp_path):
    (tmp_path / "np_app.py").write_text(ECHO)
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: np_app.handler}\n"
    mock = "  I:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties: {ApiId: !Ref Api, IntegrationType: MOCK}\n"
    response = "  R:\n    Type: AWS::ApiGatewayV2::IntegrationResponse\n    Properties: {ApiId: !Ref Api, IntegrationId: !Ref I, IntegrationResponseKey: '2\\d\\d'}\n"
    (tmp_path / "template.yaml").write_text(HEADER + fn + mock + response + route("D", "$default", "I"))
    with pytest.raises(TemplateError) as failure:
        LocalGateway(tmp_path / "template.yaml").start()
    assert str(failure.value) == "I: IntegrationResponseKey '2\\\\d\\\\d' is neither $default nor /regex/"
