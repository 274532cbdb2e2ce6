"""Run a ``LocalGateway`` in a process of its own, configured by one JSON argument.

``wsapp local`` has no switch for every ``Limits``/``Behaviour`` knob; the reliability tests need a
few (in-order invocations per connection, say) and a separate process whose memory they can measure.
Prints ``wsapp local``'s two banner lines, then serves until its standard input closes.

    python tests/reliability/serve.py '{"template": "template.yaml", "behaviour": {...}}'
"""

from __future__ import annotations

import json
import signal
import sys

from wsapp.emulator import Behaviour, Limits, LocalGateway
from wsapp.emulator.gateway import print_banner


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop: every connection closed
    options = json.loads(argv[1])
    limits = Limits(**options.pop("limits", {}))
    behaviour = Behaviour(**options.pop("behaviour", {}))
    with LocalGateway(options.pop("template"), limits=limits, behaviour=behaviour, **options) as gateway:
        print_banner(gateway)
        sys.stdin.read()  # until the test closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
