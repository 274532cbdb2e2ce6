"""SnapStart's hook: importing a handler registers it, and running it (as AWS's runtime client runs the
before-snapshot hooks) creates the clients the handlers use, without sending a request."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, sys
import wsapp.handlers.websocket
import wsapp.management, wsapp.store
from snapshot_restore_py import get_before_snapshot
from awslambdaric import lambda_runtime_hooks_runner

hooks = [f"{fn.__module__}.{fn.__name__}" for fn, _, _ in get_before_snapshot()]
before = (len(wsapp.management._clients), len(wsapp.store._stores))
lambda_runtime_hooks_runner.run_before_snapshot()  # what the runtime does when INIT is for a snapshot
store = wsapp.store._stores["connections"]
print(json.dumps({
    "hooks": hooks,
    "before": before,
    "management_clients": len(wsapp.management._clients),
    "dynamodb_client": store._client is not None,
}))
"""


def test_the_before_snapshot_hook_makes_the_clients_the_handlers_use(tmp_path):
    env = {
        "CONNECTIONS_TABLE": "connections",
        "AWS_REGION": "eu-west-1",  # both, as Lambda sets them
        "AWS_DEFAULT_REGION": "eu-west-1",
        # no credentials and an unreachable endpoint: creating clients must not need either
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),  # this tree's wsapp, wherever the interpreter's own points
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["hooks"] == ["wsapp.snapstart.make_clients"]  # registered once, however many imports
    assert report["before"] == [0, 0]  # importing made nothing
    assert report["management_clients"] == 1
    assert report["dynamodb_client"] is True
