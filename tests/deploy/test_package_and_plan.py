"""Packaging and planning: no AWS call (building resolves the functions' dependencies from PyPI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wsapp.cli import UsageError, main, parse_parameters
from wsapp.deploy.package import source_files, zip_entries, zip_folder
from wsapp.deploy.plan import make_plan
from wsapp.deploy.targets import build_template

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-dry-run-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def built():
    return build_template(ROOT / "template.yaml")


def test_the_zip_has_the_same_bytes_for_the_same_files_whatever_their_mtime_and_order(tmp_path):
    # GIVEN a copy of wsapp's runtime modules with other mtimes THEN the zip is byte for byte the same
    first = zip_entries(list(source_files()))
    copies = []
    for name, path in source_files():
        copy = tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        os.utime(copy, (1_700_000_000, 1_700_000_000))
        copies.append((name, copy))
    assert zip_entries(list(reversed(copies))).sha256 == first.sha256
    assert zip_folder(tmp_path).sha256 == first.sha256
    assert first.key == f"wsapp/{first.sha256}.zip"


def test_the_plan_lists_translated_resources_and_masks_the_secret(built):
    plan = make_plan(ROOT / "template.yaml", "demo", {"TokenSecret": SECRET}, built, region="eu-west-1")
    assert plan.resources["WebSocketFunction"] == "AWS::Lambda::Function"
    assert plan.resources["WebSocketFunctionRole"] == "AWS::IAM::Role"  # made by the SAM transform
    assert plan.resources["ConnectAuthorizer"] == "AWS::ApiGatewayV2::Authorizer"
    assert "AWS::ApiGatewayV2::Deployment" not in plan.resources.values()
    text = plan.describe()
    assert "TokenSecret = ****" in text and SECRET not in text
    assert "StageName = prod (default)" in text
    [key] = plan.artifacts  # both functions run the same code
    assert f"upload s3://<default wsapp bucket>/{key}" in text
    assert "snapstart  off" in text


def test_the_template_sent_runs_the_uploaded_artifact(built):
    plan = make_plan(ROOT / "template.yaml", "demo", {}, built, region="eu-west-1", bucket="b")
    body = plan.template_body("b")
    key = built["WebSocketFunction"].artifact.key
    assert body.count(f'"Key": "{key}"') == 2
    assert '"CodeUri": "."' not in body and "BuildMethod" not in body
    assert '"Transform": "AWS::Serverless-2016-10-31"' in body


def test_snapstart_is_opt_in_and_the_plan_shows_where_it_applies(built):
    plan = make_plan(
        ROOT / "template.yaml", "demo", {"EnableSnapStart": "true"}, built, region="eu-west-1", bucket="b"
    )
    assert plan.snap_start == {"WebSocketFunction": "live", "AuthorizerFunction": "live"}
    text = plan.describe()
    assert (
        "snapstart  on published versions: AuthorizerFunction (alias live), WebSocketFunction (alias live)"
        in text
    )
    # the versions AutoPublishAlias publishes and the aliases API Gateway invokes
    assert plan.resources["WebSocketFunctionAliaslive"] == "AWS::Lambda::Alias"
    assert "AWS::Lambda::Version" in {
        plan.resources[r] for r in plan.resources if r.startswith("WebSocketFunctionVersion")
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [(["TokenSecret"], "KEY=VALUE"), (["Nope=1"], "unknown parameter Nope")],
)
def test_bad_parameters_are_one_line_usage_errors(params, message, capsys):
    argv = ["deploy", "--stack-name", "x", "--template", str(ROOT / "template.yaml"), "--dry-run"]
    for p in params:
        argv += ["--parameter", p]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_parse_parameters_keeps_equals_signs_in_values():
    assert parse_parameters(["TokenSecret=a=b"]) == {"TokenSecret": "a=b"}
    with pytest.raises(UsageError):
        parse_parameters(["=x"])


def no_credentials(monkeypatch) -> None:
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(key, raising=False)


def test_dry_run_needs_no_credentials_and_makes_no_aws_call(monkeypatch, capsys):
    no_credentials(monkeypatch)
    import botocore.endpoint

    def refuse(*args, **kwargs):
        raise AssertionError("an AWS call in a dry run")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse)
    argv = ["deploy", "--stack-name", "demo", "--region", "eu-west-1", "--dry-run"]
    code = main([*argv, "--template", str(ROOT / "template.yaml"), "--parameter", f"TokenSecret={SECRET}"])
    out = capsys.readouterr().out
    assert code == 0
    assert "dry run: nothing sent to AWS" in out and SECRET not in out


@pytest.mark.parametrize("command", ["deploy", "destroy", "outputs"])
def test_without_credentials_one_sentence_says_how_to_provide_them(command, monkeypatch, capsys):
    no_credentials(monkeypatch)
    argv = [command, "--stack-name", "demo", "--region", "eu-west-1"]
    if command == "deploy":
        argv += ["--template", str(ROOT / "template.yaml"), "--parameter", f"TokenSecret={SECRET}"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"wsapp {command}: no AWS credentials found: set AWS_PROFILE")
