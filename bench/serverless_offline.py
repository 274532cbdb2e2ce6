"""serverless-offline as a benchmark peer: install it on first use, and the command line that runs it.

The Serverless project is bench/peers/serverless_offline/ (serverless.python.yml, serverless.node.yml,
the handlers, package.json and package-lock.json with exact versions); install.sh there copies it to
.wsapp/bench-peers/serverless_offline/ (git ignores .wsapp/) and runs ``npm ci`` once. Nothing it
starts listens beyond 127.0.0.1, and nothing it runs reaches the network (see :func:`environment`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "bench" / "peers" / "serverless_offline"
INSTALL_DIR = ROOT / ".wsapp" / "bench-peers" / "serverless_offline"
INSTALL_TIMEOUT = 900.0  # seconds: the bound on `npm ci` (about 35 s here with a warm npm cache)
VARIANTS = {"python": "serverless-offline (py)", "node": "serverless-offline (node)"}


def _installed() -> bool:
    stamp = INSTALL_DIR / ".installed"
    if not stamp.exists() or not (INSTALL_DIR / "node_modules").is_dir():
        return False
    digest = hashlib.sha256((PROJECT / "package-lock.json").read_bytes()).hexdigest()
    return stamp.read_text().strip() == digest


def ensure_installed() -> str | None:
    """Install the peer unless it already is (printing that, and how long it took); None, or why not."""
    for tool in ("node", "npm", "bash"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if _installed():
        # Still refresh the service files (serverless.*.yml, handlers) from bench/peers: cheap, no npm.
        return _run_install(quiet=True)
    where = INSTALL_DIR.relative_to(ROOT) if INSTALL_DIR.is_relative_to(ROOT) else INSTALL_DIR
    print(f"installing serverless-offline into {where} (first use) ...", flush=True)
    started = time.perf_counter()
    reason = _run_install(quiet=False)
    took = time.perf_counter() - started
    if reason is None:
        print(f"installed serverless-offline in {took:.0f} s", flush=True)
    else:
        print(f"could not install serverless-offline after {took:.0f} s: {reason}", flush=True)
    return reason


def _run_install(*, quiet: bool) -> str | None:
    try:
        done = subprocess.run(
            ["bash", str(PROJECT / "install.sh"), str(INSTALL_DIR)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            start_new_session=True,  # npm's children go with it if the timeout kills the group
        )
    except subprocess.TimeoutExpired:
        return f"npm ci did not finish within {INSTALL_TIMEOUT:g} s"
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        # npm's first lines name the failure (code, then what failed); its last points at its log file.
        said = [x for x in lines if x.startswith("npm error") and not re.search(r" at |syscall|errno", x)]
        said = said[:2] or lines[-1:]
        return f"install.sh failed ({done.returncode}): {' | '.join(said) if said else 'no output'}"
    if not quiet and done.stdout.strip():
        print("  " + done.stdout.strip().splitlines()[-1], flush=True)
    return None


def versions() -> dict[str, str]:
    """The installed versions of the three packages, for the report."""
    found = {}
    for name in ("serverless", "serverless-offline", "@aws-sdk/client-apigatewaymanagementapi"):
        manifest = INSTALL_DIR / "node_modules" / name / "package.json"
        found[name] = json.loads(manifest.read_text())["version"] if manifest.exists() else "?"
    return found


def argv(variant: str, port: int, other_ports: tuple[int, int, int]) -> list[str]:
    """``serverless offline start`` for ``variant`` (python or node), its WebSocket API on ``port``.

    serverless-offline also opens a Lambda invoke endpoint (--lambdaPort) and would bind the HTTP and
    ALB defaults (3000, 3003) if the service had such events: each gets a free port of its own, all on
    127.0.0.1 (--host), so two peers and a developer's own serverless-offline never collide.
    """
    http, lambda_, alb = other_ports
    serverless = INSTALL_DIR / "node_modules" / "serverless" / "bin" / "serverless.js"
    return [
        shutil.which("node") or "node",
        str(serverless),
        "offline",
        "start",
        "--config",
        f"serverless.{variant}.yml",
        "--host",
        "127.0.0.1",
        "--websocketPort",
        str(port),
        "--httpPort",
        str(http),
        "--lambdaPort",
        str(lambda_),
        "--albPort",
        str(alb),
    ]


def environment(port: int, *, log_invocations: bool = False) -> dict[str, str]:
    """The peer's environment: offline, quiet, and a Python that can import boto3.

    - Serverless v3 sends telemetry and fetches notifications unless told not to: SLS_TELEMETRY_DISABLED
      (and the older SLS_TRACKING_DISABLED), SLS_NOTIFICATIONS_MODE=off, SLS_DISABLE_AUTO_UPDATE,
      SLS_DEPRECATION_DISABLE; npm's and update-notifier's checks are off too.
    - SLS_LOG_LEVEL=warning drops the line serverless-offline logs for every invocation, as
      ``wsapp local --quiet`` drops its function logs; the cold-start runs keep them (notice) to read the
      first invocation's Duration.
    - Python handlers run as ``python3`` found on PATH; serverless-offline's PythonRunner puts
      ``$VIRTUAL_ENV/bin`` first on PATH, so VIRTUAL_ENV is this interpreter's environment (.venv, which
      has boto3), and PATH starts with it too.
    - The handlers sign their @connections calls with dummy keys: no profile, no instance metadata.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLS_", "SERVERLESS_"))}
    venv = Path(sys.prefix)
    env.update(
        SLS_TELEMETRY_DISABLED="1",
        SLS_TRACKING_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_DISABLE_AUTO_UPDATE="1",
        SLS_DEPRECATION_DISABLE="*",
        SLS_LOG_LEVEL="notice" if log_invocations else "warning",
        NO_UPDATE_NOTIFIER="1",
        npm_config_update_notifier="false",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PEER_MANAGEMENT_ENDPOINT=f"http://127.0.0.1:{port}",
    )
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env
