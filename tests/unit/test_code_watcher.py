"""The thread runtime's code watcher forgets function code, never the emulator that runs it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from wsapp.emulator.awslambda.reload import CodeWatcher

REPO = Path(__file__).resolve().parents[2]


def test_purging_a_template_whose_code_is_this_repository_keeps_the_emulator_and_cli():
    # This repository's template has CodeUri: . — wsapp's handlers are function code there; the emulator
    # and the CLI beside them are not (purged, they would come back as second copies of their classes).
    handler = importlib.import_module("wsapp.handlers.websocket")
    importlib.import_module("wsapp.cli")
    errors = importlib.import_module("wsapp.emulator.errors")
    CodeWatcher([REPO]).purge()
    assert sys.modules["wsapp.emulator.errors"] is errors
    assert "wsapp.cli" in sys.modules
    assert "wsapp.handlers.websocket" not in sys.modules  # the function's code: imported afresh next time
    assert importlib.import_module("wsapp.handlers.websocket") is not handler
