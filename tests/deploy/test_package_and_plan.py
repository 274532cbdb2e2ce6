"""Packaging and planning: no AWS call, no network."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from wsapp.cli import UsageError, main, parse_parameters
from wsapp.deploy.package import build_zip, collect
from wsapp.deploy.plan import make_plan

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-dry-run-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def artifact():
    return build_zip()


def test_the_zip_has_the_same_bytes_for_the_same_sources(artifact, tmp_path):
    # GIVEN a copy of every packaged file with a different mtime THEN the zip is byte for byte the same
    copies = []
    for name, path in collect():
        copy = tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        os.utime(copy, (1_700_000_000, 1_700_000_000))
        copies.append((name, copy))
    assert build_zip(list(reversed(copies))).sha256 == artifact.sha256
    assert artifact.key == f"wsapp/{artifact.sha256}.zip"


def test_the_zip_holds_wsapp_and_its_runtime_dependencies_only(artifact):
    names = zipfile.ZipFile(BytesIO(artifact.data)).namelist()
    tops = {n.split("/")[0] for n in names if ".dist-info" not in n}
    assert {"wsapp", "jwt", "aws_lambda_powertools"} <= tops
    assert not tops & {"boto3", "botocore", "aiohttp", "yaml", "samtranslator", "moto", "tests", "notebooks"}
    assert "wsapp/handlers/websocket.py" in names and "wsapp/handlers/authorizer.py" in names
    workbench = ("wsapp/emulator/", "wsapp/deploy/", "wsapp/cli/", "wsapp/scaffold/", "wsapp/pytest_plugin")
    assert not [n for n in names if n.startswith(workbench)]
    assert not [n for n in names if n.endswith((".pyc", ".so"))]


def test_the_handlers_import_from_the_unzipped_artifact_alone(artifact, tmp_path):
    zipfile.ZipFile(BytesIO(artifact.data)).extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import wsapp.handlers.websocket, wsapp.handlers.authorizer, jwt, aws_lambda_powertools;"
        "mods = [wsapp, jwt, aws_lambda_powertools];"
        "assert all(m.__file__.startswith(sys.argv[1]) for m in mods), [m.__file__ for m in mods];"
        "assert 'aiohttp' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe, str(tmp_path)], check=True, timeout=60)


def test_the_plan_lists_translated_resources_and_masks_the_secret(artifact):
    plan = make_plan(ROOT / "template.yaml", "demo", {"TokenSecret": SECRET}, artifact, region="eu-west-1")
    assert plan.resources["WebSocketFunction"] == "AWS::Lambda::Function"
    assert plan.resources["WebSocketFunctionRole"] == "AWS::IAM::Role"  # made by the SAM transform
    assert plan.resources["ConnectAuthorizer"] == "AWS::ApiGatewayV2::Authorizer"
    assert "AWS::ApiGatewayV2::Deployment" not in plan.resources.values()
    text = plan.describe()
    assert "TokenSecret = ****" in text and SECRET not in text
    assert "StageName = prod (default)" in text
    assert artifact.sha256 in text


def test_the_template_sent_runs_the_uploaded_artifact(artifact):
    plan = make_plan(ROOT / "template.yaml", "demo", {}, artifact, region="eu-west-1", bucket="b")
    body = plan.template_body("b")
    assert body.count(f'"Key": "{artifact.key}"') == 2
    assert '"CodeUri": "."' not in body and "BuildMethod" not in body
    assert '"Transform": "AWS::Serverless-2016-10-31"' in body


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
