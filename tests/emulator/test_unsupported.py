"""What the emulator cannot do is said in one line naming the resource, never skipped in silence."""

from __future__ import annotations

# ruff: noqa: E501 - the templates are text, kept on readable lines
import pytest
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
