"""A function's Timeout counts from when an execution environment takes the event, as on Lambda."""

from __future__ import annotations

import websocket
from emukit import HEADER, function, integration, route, write_echo_module

from wsapp.emulator import LocalGateway


def test_time_spent_waiting_for_a_free_environment_does_not_count_against_the_timeout(tmp_path):
    # GIVEN one environment and a handler that takes 0.6 s of its 1 s Timeout
    write_echo_module(tmp_path, "queued_timeout_app", '(__import__("time").sleep(0.6), "done")[1]')
    (tmp_path / "events.jsonl").touch()
    template = tmp_path / "template.yaml"
    template.write_text(
        HEADER
        + function("Fn", "queued_timeout_app.handler", timeout=1)
        + integration("Integration", "Fn")
        + route("DefaultRoute", "$default", "Integration", two_way=True)
    )
    with LocalGateway(template, concurrency=1) as gw:
        ws = websocket.create_connection(gw.url, timeout=5)
        try:
            # WHEN two messages arrive together: the second waits 0.6 s, then runs 0.6 s (1.2 s in all)
            ws.send("first")
            ws.send("second")
            # THEN both complete: only the 0.6 s of running counts against the 1 s Timeout
            assert [ws.recv(), ws.recv()] == ["done", "done"]
        finally:
            ws.close()
