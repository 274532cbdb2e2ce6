"""Function output is prefixed and kept per invocation, whichever stream a log handler was bound to."""

from __future__ import annotations

import io
import logging

from wsapp.emulator.awslambda import output
from wsapp.emulator.logs import LogSink


def test_a_log_handler_made_before_the_gateway_writes_into_the_invocation_log():
    # GIVEN a handler bound to its own stream before the gateway started (as pytest capture leaves them)
    stream = io.StringIO()
    logger = logging.getLogger("made-before-the-gateway")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    sink = LogSink(None)
    try:
        output.install()
        try:
            # WHEN a function logs during an invocation
            output.begin(sink, "Fn", "req-1")
            logger.warning("inside")
            output.end()
            logger.warning("outside")
        finally:
            output.uninstall()
        logger.warning("after")
    finally:
        logger.removeHandler(handler)
    # THEN the invocation's line is prefixed in the gateway's log; the others reach the handler's stream
    assert "[Fn req-1] inside" in sink.lines
    assert stream.getvalue() == "outside\nafter\n"
