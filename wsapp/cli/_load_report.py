"""The summary ``wsapp load`` prints, from the final statistics its Locust run wrote (wsapp.locust.summary).

Response times are Locust's: milliseconds, percentiles over its rounded buckets (whole milliseconds
under 100 ms, then 2 significant figures). ``RECV`` rows count frames that answered no request of the
receiving user (another user's broadcast): they have no response time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("type", "name", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")


def summary_lines(path: Path, *, users: int) -> list[str]:
    """The table (one row per request name, then the total) and the failures with their error text."""
    if not path.is_file():
        return ["no statistics: the Locust run ended before writing them"]
    report = json.loads(path.read_text())
    table = [COLUMNS] + [_row(e) for e in report["entries"]] + [_row({**report["total"], "name": "total"})]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    rule = "  ".join("-" * w for w in widths)
    lines = [f"{users} users"]
    for i, line in enumerate(table):
        cells = [
            c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if i in (0, len(table) - 2):
            lines.append(rule)
    lines += [f"failed {e['name']} ×{e['count']}: {e['error']}" for e in report["errors"]]
    return lines


def print_summary(path: Path, *, users: int) -> None:
    print("\n".join(summary_lines(path, users=users)), flush=True)


def _row(entry: dict[str, Any]) -> tuple[str, ...]:
    return (
        entry["type"],
        entry["name"],
        str(entry["requests"]),
        str(entry["failures"]),
        f"{entry['rps']:.1f}",
        *(_ms(entry[key]) for key in ("p50", "p95", "p99", "max")),
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
