"""MiniStack, a local AWS emulator with CloudFormation, ApiGatewayV2 and the SAM transform.

It pins botocore and graphql-core to versions that clash with ours, so it lives in its own venv under
.wsapp/ (gitignored), created on first use and reused afterwards. Each session gets a fresh server on
a free loopback port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINISTACK_VENV = ROOT / ".wsapp" / "ministack-venv"
REQUIREMENTS = ["ministack==1.5.33", "aws-sam-translator>=1.90"]  # the translator runs the SAM transform
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def ministack_bin() -> Path:
    stamp = MINISTACK_VENV / ".wsapp-requirements"
    exe = MINISTACK_VENV / "bin" / "ministack"
    if exe.exists() and stamp.exists() and stamp.read_text() == " ".join(REQUIREMENTS):
        return exe
    venv.EnvBuilder(with_pip=True, clear=True).create(MINISTACK_VENV)
    pip = [
        str(MINISTACK_VENV / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    done = subprocess.run([*pip, *REQUIREMENTS], capture_output=True, text=True, timeout=600)
    if done.returncode:
        pytest.skip(f"needs MiniStack from PyPI, which could not be installed: {done.stderr.strip()[-300:]}")
    stamp.write_text(" ".join(REQUIREMENTS))
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory):
    """The endpoint URL of a MiniStack server that lives for the test session."""
    exe = ministack_bin()
    port = free_port()
    log = tmp_path_factory.mktemp("ministack") / "ministack.log"
    env = {**os.environ, "GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    with log.open("w") as out:
        proc = subprocess.Popen([str(exe)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_ministack/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"MiniStack did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch):
    """Credentials MiniStack accepts, and no profile or config file of the user's."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
