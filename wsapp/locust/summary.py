"""The run's final statistics as JSON, for ``wsapp load``'s summary table (``--wsapp-summary FILE``).

Locust's CSV files are rewritten once a second while the run goes and not at its end, so they can miss
the last second; this is written from the master's (or the only process's) statistics once the run is
over, with Locust's own percentile and rate arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import StatsEntry, StatsError, sort_stats

_environment: list[Environment] = []


@events.init.add_listener
def _remember(environment: Environment, **_: Any) -> None:
    _environment[:] = [environment]


# On quitting: a headless run has stopped and its workers have sent their last reports by then, and
# nothing has yet reset the entries (Locust's --json-file strips them as it writes them).
@events.quitting.add_listener
def _write(**_: Any) -> None:
    if not _environment:
        return
    environment = _environment[0]
    path = getattr(environment.parsed_options, "wsapp_summary", "")
    if not path or isinstance(environment.runner, WorkerRunner):
        return  # workers report to the master; the master writes
    Path(path).write_text(json.dumps(summary(environment), indent=1))


def summary(environment: Environment) -> dict[str, Any]:
    stats = environment.stats
    return {
        "entries": [_entry(e) for e in sort_stats(stats.entries)],
        "total": _entry(stats.total),
        "errors": [
            {
                "name": e.name,
                "type": e.method,
                "error": StatsError.parse_error(e.error),
                "count": e.occurrences,
            }
            for e in sorted(stats.errors.values(), key=lambda e: (e.name, -e.occurrences))
        ],
    }


def _entry(entry: StatsEntry) -> dict[str, Any]:
    timed = entry.num_requests - entry.num_none_requests
    percentiles = {f"p{round(q * 100)}": entry.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)}
    return {
        "type": entry.method or "",
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        **(percentiles if timed else dict.fromkeys(percentiles)),
        "max": entry.max_response_time if timed else None,
    }
