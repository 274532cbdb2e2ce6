"""Where a function's code is, as SAM CLI and CloudFormation find it: ``CodeUri`` left out (the
template's folder), ``InlineCode`` / ``Code.ZipFile`` (a file named ``index``), ``Code`` as a local
path (what ``aws cloudformation package`` uploads). Each answers a two-way route over a real socket.
"""

from __future__ import annotations

import os
import shutil

# ruff: noqa: E501 - the templates are text, kept on readable lines
import pytest
import websocket
from emukit import integration, route

from wsapp.emulator import LocalGateway
from wsapp.emulator.errors import TemplateError

HEADER = """\
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: code, ProtocolType: WEBSOCKET, RouteSelectionExpression: "$request.body.action"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: prod, AutoDeploy: true}
"""
ROLE = """\
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
"""
ECHO = "def handler(event, context):\n    return {'statusCode': 200, 'body': WHO + ':' + event['body']}\n"


def _serve_one(template, text="hi", **options):
    with LocalGateway(template, **options) as gw:
        ws = websocket.create_connection(gw.url, timeout=20)
        try:
            ws.send(text)
            return ws.recv()
        finally:
            ws.close()


def _template(folder, resources):
    path = folder / "template.yaml"
    path.write_text(HEADER + resources + integration("I", "Fn") + route("D", "$default", "I", two_way=True))
    return path


def test_a_function_without_codeuri_runs_from_the_templates_folder(tmp_path):
    (tmp_path / "nocodeuri_app.py").write_text("WHO = 'folder'\n" + ECHO)
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: nocodeuri_app.handler, Runtime: python3.12}\n"
    assert _serve_one(_template(tmp_path, fn)) == "folder:hi"


def test_inline_code_runs_from_a_file_named_index(tmp_path):
    source = "WHO = 'inline'\n" + ECHO
    fn = (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: index.handler\n"
        "      Runtime: python3.12\n      InlineCode: |\n" + "".join(f"        {line}\n" for line in source.splitlines())
    )
    template = _template(tmp_path, fn)
    assert _serve_one(template) == "inline:hi"
    written = tmp_path / ".wsapp" / "inline" / "Fn" / "index.py"
    assert written.read_text() == source
    before = written.stat().st_mtime_ns
    assert _serve_one(template, "again") == "inline:again"
    assert written.stat().st_mtime_ns == before  # unchanged code is not rewritten (no fresh environments)


def test_cloudformation_zipfile_and_local_code_path(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "plain_app.py").write_text("WHO = 'path'\n" + ECHO)
    plain = """\
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Handler: plain_app.handler, Runtime: python3.12, Role: !GetAtt Role.Arn, Code: src}
"""
    assert _serve_one(_template(tmp_path, ROLE + plain)) == "path:hi"
    zipped = """\
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          WHO = 'zipfile'
          def handler(event, context):
              return {'statusCode': 200, 'body': WHO + ':' + event['body']}
"""
    assert _serve_one(_template(tmp_path, ROLE + zipped)) == "zipfile:hi"


@pytest.mark.skipif(
    not (os.environ.get("WSAPP_NODE_RUNTIME") and shutil.which("node")), reason="needs node and wsapp's Node.js runtime"
)
def test_inline_nodejs_code_is_index_js(tmp_path):
    fn = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
      InlineCode: |
        exports.handler = async (event) => ({statusCode: 200, body: "node:" + event.body});
"""
    assert _serve_one(_template(tmp_path, fn), isolation="process") == "node:hi"  # Node: processes only
    assert (tmp_path / ".wsapp" / "inline" / "Fn" / "index.js").is_file()


def test_code_on_s3_is_one_line_naming_the_function(tmp_path):
    fn = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: a.handler, Runtime: python3.12, CodeUri: s3://bucket/key.zip}\n"
    with pytest.raises(TemplateError) as failure:
        LocalGateway(_template(tmp_path, fn)).start()
    assert str(failure.value) == "Fn: CodeUri is on S3; it must be a local folder to run locally"

