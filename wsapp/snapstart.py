"""SnapStart's runtime hook: the SDK clients are made during INIT, so a restored environment has them.

With SnapStart (``EnableSnapStart=true`` in template.yaml), Lambda runs INIT once when a version is
published, then the hooks registered with ``@register_before_snapshot``, and snapshots the
environment's memory; new execution environments resume from that snapshot instead of running INIT
[DOC: lambda/latest/dg/snapstart-runtime-hooks-python]. A first boto3 client costs tens of
milliseconds (botocore's session, service model and endpoint rules), work a handler would otherwise do
on its first event, so the hook does it before the snapshot. Without SnapStart the hook never runs and
clients are made on first use, as always.

The hook sends no request: a client opens its connections on its first request, after restore, so no
socket from before the snapshot is reused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from wsapp.management import ENDPOINT_ENV, client_for
from wsapp.store import TABLE_ENV, store_from_env

try:
    # AWS's library for the hooks; Lambda's python3.12+ runtimes bundle it and wsapp deploy ships it.
    from snapshot_restore_py import register_before_snapshot
except ImportError:  # a bare local environment: nothing to register with, nothing that would run it
    register_before_snapshot = None

_registered = False


def make_clients(env: Mapping[str, str] = os.environ) -> list[str]:
    """Create the clients the handlers use; the services made, for the log."""
    made = []
    if env.get(TABLE_ENV):
        _ = store_from_env(env).client
        made.append("dynamodb")
    # The @connections endpoint comes with each event (its domain and stage); a client for any one
    # loads the service's model into the SDK's session, which is the part that takes the time.
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    client_for(env.get(ENDPOINT_ENV) or f"https://execute-api.{region}.amazonaws.com")
    made.append("apigatewaymanagementapi")
    return made


def register() -> bool:
    """Register :func:`make_clients` as a before-snapshot hook, once; False where the library is absent."""
    global _registered
    if register_before_snapshot is None:
        return False
    if not _registered:
        register_before_snapshot(make_clients)
        _registered = True
    return True
