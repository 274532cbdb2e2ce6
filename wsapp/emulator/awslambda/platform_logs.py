"""The lines Lambda itself writes to a function's log stream, in the Text format, byte for byte.

``INIT_START`` once per environment, ``START``/``END``/``REPORT`` around every invocation (fields
separated by tabs, ``REPORT`` ending in a tab, ``Init Duration`` last and only on an environment's
first invocation), ``INIT_REPORT`` when an init fails or times out, and the ``Task timed out`` line
(lambda-runtime-reference §3.1-§3.3).
"""

from __future__ import annotations

import math
import re
import time


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def init_start(runtime: str, region: str, local_version: str) -> str:
    """``INIT_START Runtime Version: python:3.12.v11\tRuntime Version ARN: …`` [AWS-REC §3.3].

    The version names the interpreter that really runs the function on this machine.
    """
    match = re.fullmatch(r"([a-z]+)\.?(.+?)(\.x)?", runtime)  # python3.12, nodejs20.x, provided.al2023
    name = f"{match[1]}:{match[2]}" if match else runtime
    name = f"{name}.local-{local_version}"
    return f"INIT_START Runtime Version: {name}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:local"


def start(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: $LATEST"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    # Since 2025-08-01 the INIT phase of on-demand ZIP functions is billed too [DOC init billing blog].
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def init_report(init_ms: float, *, phase: str, status: str, error_type: str | None = None) -> str:
    """``INIT_REPORT Init Duration: 1236.04 ms Phase: init Status: timeout`` [DOC §3.1] (tab-separated)."""
    fields = [f"INIT_REPORT Init Duration: {init_ms:.2f} ms", f"Phase: {phase}", f"Status: {status}"]
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields)


def timed_out(request_id: str, timeout: float) -> str:
    """``<ISO ts> <id> Task timed out after 1.00 seconds``, written after REPORT [AWS-REC §3.2]."""
    return f"{_iso_now()} {request_id} Task timed out after {timeout:.2f} seconds"


def exited(request_id: str, reason: str) -> list[str]:
    """``RequestId: <id> Error: Runtime exited …``, then ``Runtime.ExitError`` alone [AWS-REC §3.2]."""
    return [f"RequestId: {request_id} Error: {reason}", "Runtime.ExitError"]
