"""SAM CLI compatibility: ``sam validate --lint`` and ``sam build`` succeed on template.yaml and on a
project made by ``wsapp init``.

aws-sam-cli pins many packages, so it lives in its own venv under .wsapp/ (gitignored), created on
first use (a minute or two) and reused afterwards. ``sam build`` runs the Makefile targets, which run
``python -m wsapp.deploy.build`` with the Python wsapp is installed in (first on PATH, as in an
activated venv): dependencies resolved for Lambda's arm64 python3.12 from PyPI.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wsapp.cli import main
from wsapp.deploy.targets import build_template

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = "aws-sam-cli>=1.120"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sam(venv_factory) -> list[str]:
    return [str(venv_factory("samcli-venv", [REQUIREMENT], timeout=800) / "bin" / "sam")]


def run_sam(sam: list[str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # the venv, activated
        "PYTHONPATH": str(ROOT),  # this tree's wsapp, wherever the venv's install points
    }
    return subprocess.run([*sam, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


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


def test_sam_build_of_a_wsapp_init_project_ships_its_code_wsapp_and_arm64_wheels(sam, tmp_path):
    project = tmp_path / "chat-app"
    assert main(["init", str(project)]) == 0
    requirements = project / "src" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "MarkupSafe==3.0.2\n")
    done = run_sam(sam, "build", "--cache-dir", str(tmp_path / "cache"), cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    built = project / ".aws-sam" / "build" / "WebSocketFunction"
    assert (built / "chat_app" / "actions.py").is_file()
    assert (built / "wsapp" / "handlers" / "websocket.py").is_file() and (built / "jwt").is_dir()
    assert not (built / "wsapp" / "emulator").exists()
    [so] = (built / "markupsafe").glob("*.so")
    assert so.name == "_speedups.cpython-312-aarch64-linux-gnu.so"
    # what sam build made is what wsapp deploy ships: the same files
    shipped = build_template(project / "template.yaml")["WebSocketFunction"].artifact
    names = set(zipfile.ZipFile(io.BytesIO(shipped.data)).namelist())
    made = {
        p.relative_to(built).as_posix()
        for p in built.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert made == names
