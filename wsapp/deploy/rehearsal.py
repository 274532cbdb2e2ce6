"""Rehearse a deployment on MiniStack, a local AWS emulator with CloudFormation, ApiGatewayV2, Lambda,
S3, DynamoDB and the SAM transform, so ``wsapp deploy`` can be tried without an AWS account.

MiniStack pins botocore and graphql-core to versions that clash with ours, so it lives in its own
venv under ``.wsapp/`` (gitignored), created on first use (about 20 s, from PyPI) and reused
afterwards. :func:`ministack` starts a fresh server on a free loopback port and stops it again; the
tests and notebook 05 both use it. Nothing here is shipped to Lambda (``wsapp/deploy/`` is left out
of the artifact).
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wsapp.deploy.environ import overridden
from wsapp.deploy.plan import load_template
from wsapp.management import ENDPOINT_ENV
from wsapp.testing import ROOT

CACHE = ROOT / ".wsapp"
MINISTACK_REQUIREMENTS = ["ministack==1.5.33", "aws-sam-translator>=1.90"]  # the translator: SAM transform
# Resource types MiniStack does not know; the rehearsal template leaves them out.
UNSUPPORTED_TYPES = frozenset({"AWS::ApiGatewayV2::RouteResponse"})
# MiniStack accepts any key pair; its account id is then 000000000000.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Removed while fake credentials are in force, so no profile or config of the user's gets in the way.
_SHADOWED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION")


class MiniStackUnavailable(Exception):
    """A cached venv could not be installed (no PyPI, most likely): the rehearsal cannot run here."""


class MiniStackFailed(Exception):
    """MiniStack was installed but did not start; the message ends with its log."""


def cached_venv(name: str, requirements: list[str], *, timeout: float = 600, cache: Path = CACHE) -> Path:
    """``cache/<name>`` with ``requirements`` installed, created once and shared by later runs.

    An exclusive lock keeps two concurrent runs (two pytest sessions, a test and a notebook) from
    building the same venv at once; the second waits and then reuses the first one's.
    """
    path = cache / name
    cache.mkdir(parents=True, exist_ok=True)
    stamp = path / ".wsapp-requirements"
    with open(cache / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == " ".join(requirements):
            return path
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        try:
            done = subprocess.run([*pip, *requirements], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise MiniStackUnavailable(f"installing {requirements[0]} took over {timeout:g} s") from None
        if done.returncode:
            error = done.stderr.strip().splitlines()[-1:] or ["?"]
            raise MiniStackUnavailable(
                f"needs {requirements[0]} from PyPI, which could not be installed: {error[0]}"
            )
        stamp.write_text(" ".join(requirements))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_ministack/health", timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:]
                raise MiniStackFailed(f"MiniStack did not start within {timeout:g} s: {tail}") from None
            time.sleep(0.1)


@contextmanager
def ministack(*, log_dir: Path | None = None, start_timeout: float = 30) -> Iterator[str]:
    """Run a MiniStack server on a free loopback port; yields its endpoint URL, stops it on exit.

    Its log goes to ``log_dir/ministack.log`` (default: a temporary directory removed afterwards).
    """
    exe = cached_venv("ministack-venv", MINISTACK_REQUIREMENTS) / "bin" / "ministack"
    with tempfile.TemporaryDirectory(prefix="ministack-") as scratch:
        folder = Path(log_dir or scratch)
        log = folder / "ministack.log"
        port = free_port()
        env = {**os.environ, "GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
        with log.open("w") as out:
            proc = subprocess.Popen([str(exe)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
        # A notebook holds the server open across cells; if its kernel exits first, stop it anyway.
        stop = functools.partial(_stop, proc)
        atexit.register(stop)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, log, start_timeout)
            yield url
        finally:
            atexit.unregister(stop)
            stop()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def local_credentials() -> Iterator[dict[str, str]]:
    """Credentials MiniStack accepts, in the environment for the duration of the block.

    The user's profile, session token and config files are hidden meanwhile, and every variable is
    restored afterwards, so a later check for real AWS credentials sees the machine as it was.
    """
    overrides: dict[str, str | None] = {key: None for key in _SHADOWED}
    overrides.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, **FAKE_CREDENTIALS)
    with overridden(overrides):
        yield dict(FAKE_CREDENTIALS)


def rehearsal_template(source: Path, target_dir: Path, *, endpoint: str | None = None) -> Path:
    """``source`` without the resource types MiniStack lacks, written to ``target_dir/template.json``.

    For template.yaml that is only ``PingRouteResponse`` (the two-way ``ping`` reply); everything
    else is deployed as written. Local code folders become absolute paths, so the copy builds the
    same code as the original.

    ``endpoint`` (MiniStack's URL) also names the WebSocket API's ``@connections`` endpoint to every
    function, in the SDK's own variable: MiniStack serves it under ``/_aws/execute-api/{api}/{stage}``
    while its events say ``{api}.execute-api.localhost`` (no port), which no client reaches.
    """
    template = load_template(source)
    template["Resources"] = {
        rid: res for rid, res in template["Resources"].items() if res.get("Type") not in UNSUPPORTED_TYPES
    }
    base = Path(source).resolve().parent
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    places = [(function_globals, "CodeUri")]
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        places += [(props, key) for key in ("CodeUri", "Code", "ContentUri", "Content") if key in props]
    for props, key in places:
        value = props.get(key)
        if isinstance(value, str) and not value.startswith("s3://"):
            props[key] = str(base / value)
    if endpoint is not None:
        _name_connections_endpoint(template, endpoint.rstrip("/"))
    path = Path(target_dir) / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


def _name_connections_endpoint(template: dict[str, Any], endpoint: str) -> None:
    resources = template["Resources"]
    [api] = [
        rid
        for rid, res in resources.items()
        if res.get("Type") == "AWS::ApiGatewayV2::Api"
        and res["Properties"].get("ProtocolType") == "WEBSOCKET"
    ]
    [stage] = [
        res["Properties"]["StageName"]
        for res in resources.values()
        if res.get("Type") == "AWS::ApiGatewayV2::Stage" and res["Properties"].get("ApiId") == {"Ref": api}
    ]
    url = {"Fn::Join": ["", [f"{endpoint}/_aws/execute-api/", {"Ref": api}, "/", stage]]}
    function = template.setdefault("Globals", {}).setdefault("Function", {})
    variables = function.setdefault("Environment", {}).setdefault("Variables", {})
    variables[ENDPOINT_ENV] = url
