"""Cold starts of this repo's functions in the emulator's execution environments, and what SnapStart moves.

    python bench/cold_start.py [--runs 5]

Each run is a fresh ``wsapp invoke`` of one function on two events: a new execution environment (a
process of its own, INIT measured as Lambda reports it, ``Init Duration`` in the first ``REPORT``), then
the same environment warm. The first invocation also creates the SDK clients, which the second reuses;
``wsapp.snapstart.make_clients`` is timed on its own in a fresh interpreter. With SnapStart (template
parameter ``EnableSnapStart=true``) Lambda does INIT and that hook once per published version and
resumes new environments from the snapshot instead; the restore itself cannot be measured here.
Figures are this machine's, medians over the runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = re.compile(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms.*?(?:Init Duration: ([\d.]+) ms)?\t?$")
EVENTS = {
    "WebSocketFunction": "events/message_marco.json",
    "AuthorizerFunction": "events/authorizer_request.json",
}
HOOK = (
    "import time, wsapp.handlers.websocket as _;"
    "from wsapp.snapstart import make_clients;"
    "t = time.perf_counter(); make_clients(); print((time.perf_counter() - t) * 1000)"
)


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "CONNECTIONS_TABLE": "connections",
    }


def one_run(function: str) -> tuple[float, float, float]:
    """(init, first invocation, warm invocation) in ms, from the REPORT lines of a fresh environment."""
    event = EVENTS[function]
    done = subprocess.run(
        [sys.executable, "-m", "wsapp", "invoke", event, event, "--function", function],
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    reports = [REPORT.search(line) for line in done.stdout.splitlines() + done.stderr.splitlines()]
    (first, warm) = [m for m in reports if m]
    return float(first.group(2)), float(first.group(1)), float(warm.group(1))


def hook_ms() -> float:
    done = subprocess.run(
        [sys.executable, "-c", HOOK], cwd=ROOT, env=environment(), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{'function':<20} {'INIT':>8} {'1st invoke':>11} {'warm':>8} {'cold/warm':>10}")
    for function in EVENTS:
        samples = [one_run(function) for _ in range(runs)]
        init, first, warm = (statistics.median(s[i] for s in samples) for i in range(3))
        ratio = (init + first) / warm
        print(f"{function:<20} {init:>6.0f}ms {first:>9.1f}ms {warm:>6.1f}ms {ratio:>9.0f}×")
    made = statistics.median(hook_ms() for _ in range(runs))
    print(
        f"make_clients (the before-snapshot hook): {made:.0f} ms, which SnapStart moves before the snapshot"
    )


if __name__ == "__main__":
    main()
