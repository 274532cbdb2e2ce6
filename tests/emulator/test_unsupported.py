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
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: sources_app.handler
      Events:
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST}}
        Jobs: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
"""


def test_event_sources_and_schedules_not_run_yet_are_one_warning_each(tmp_path):
    (tmp_path / "sources_app.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    (tmp_path / "template.yaml").write_text(HEADER + RESOURCES + integration("I", "Fn") + route("D", "$default", "I"))
    out = io.StringIO()
    with LocalGateway(tmp_path / "template.yaml", logs=out):
        pass
    warnings = sorted(line for line in out.getvalue().splitlines() if line.startswith("warning: "))
    assert warnings == [
        "warning: FnTick: AWS::Events::Rule targets are not triggered locally yet",
    ]  # FnStream and FnJobs run (tests/apps/test_stream_notify.py, test_queue_jobs.py)
