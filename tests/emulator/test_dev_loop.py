"""Issue 3: editing a handler takes effect on the next event, without restarting the gateway."""

from __future__ import annotations

import os
import time

from emukit import open_ws, wait_until, write_echo, write_echo_module

from wsapp.emulator import LocalGateway


def edit(folder, module: str, body: str) -> None:
    path = write_echo_module(folder, module, repr(body))
    later = time.time() + 10  # a clearly newer mtime, whatever the file system's granularity
    os.utime(path, (later, later))


def reply(ws, text: str = "hi") -> str:
    ws.send(text)
    return ws.recv()


def test_edited_handler_answers_the_next_event_without_restart(tmp_path):
    folder = tmp_path / "devloop"
    template = write_echo(folder, "devloop_a", repr("v1"))
    with LocalGateway(template, dynamodb=False) as gw:
        ws = open_ws(gw, "")
        try:
            assert reply(ws) == "v1"
            edit(folder, "devloop_a", "v2")
            # The watcher looks at most every 0.2 s; the new code must win within a few events.
            wait_until(lambda: reply(ws) == "v2", timeout=3, what="the edited handler to answer")
            assert reply(ws) == "v2"
        finally:
            ws.close()


def test_handler_edited_right_after_start_is_picked_up_by_the_first_event(tmp_path):
    folder = tmp_path / "devloop"
    template = write_echo(folder, "devloop_b", repr("v1"))
    with LocalGateway(template, dynamodb=False) as gw:
        edit(folder, "devloop_b", "v2")  # before any event: the start-up import is already stale
        time.sleep(0.3)
        ws = open_ws(gw, "")
        try:
            assert reply(ws) == "v2"
        finally:
            ws.close()
