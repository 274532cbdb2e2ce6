"""MiniStack, a local AWS emulator with CloudFormation, ApiGatewayV2 and the SAM transform.

It pins botocore and graphql-core to versions that clash with ours, so it lives in its own venv under
.wsapp/ (gitignored), created on first use and reused afterwards. Each session gets a fresh server on
a free loopback port.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ["ministack==1.5.33", "aws-sam-translator>=1.90"]  # the translator runs the SAM transform
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def cached_venv(name: str, requirements: list[str], *, timeout: float = 600) -> Path:
    """``.wsapp/<name>`` with ``requirements`` installed, created once and shared by test runs.

    An exclusive lock keeps two concurrent pytest runs from building the same venv at once.
    """
    path = ROOT / ".wsapp" / name
    path.parent.mkdir(exist_ok=True)
    stamp = path / ".wsapp-requirements"
    with open(path.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == " ".join(requirements):
            return path
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run([*pip, *requirements], capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            error = done.stderr.strip().splitlines()[-1:] or ["?"]
            pytest.skip(f"needs {requirements[0]} from PyPI, which could not be installed: {error[0]}")
        stamp.write_text(" ".join(requirements))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def venv_factory():
    """:func:`cached_venv`, for test modules (conftest is not importable by name)."""
    return cached_venv


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory):
    """The endpoint URL of a MiniStack server that lives for the test session."""
    exe = cached_venv("ministack-venv", REQUIREMENTS) / "bin" / "ministack"
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
