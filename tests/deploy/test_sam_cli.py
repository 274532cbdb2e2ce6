"""SAM CLI compatibility: ``sam validate --lint`` and ``sam build`` succeed on template.yaml.

aws-sam-cli pins many packages, so it lives in its own venv under .wsapp/ (gitignored), created on
first use (a minute or two) and reused afterwards. ``sam build`` runs the Makefile targets, which
install the runtime dependencies for Lambda's arm64 python3.12 with pip (so it needs PyPI).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = "aws-sam-cli>=1.120"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sam(venv_factory) -> list[str]:
    return [str(venv_factory("samcli-venv", [REQUIREMENT], timeout=800) / "bin" / "sam")]


def run_sam(sam: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([*sam, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_sam_validate_lint_accepts_the_template(sam):
    done = run_sam(sam, "validate", "--lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_sam_build_ships_wsapp_and_its_dependencies_without_the_repo_root(sam, tmp_path):
    done = run_sam(
        sam, "build", "--build-dir", str(tmp_path / "build"), "--cache-dir", str(tmp_path / "cache")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for function in ("WebSocketFunction", "AuthorizerFunction"):
        built = tmp_path / "build" / function
        assert (built / "wsapp" / "handlers" / "websocket.py").is_file()
        assert (built / "jwt").is_dir() and (built / "aws_lambda_powertools").is_dir()
        assert not {".venv", "tests", "notebooks", ".git"} & {p.name for p in built.iterdir()}
        assert not (built / "wsapp" / "emulator").exists()
