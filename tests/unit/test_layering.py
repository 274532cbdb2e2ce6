"""What a Lambda container imports: the handlers, never the workbench around them."""

import json
import subprocess
import sys

WORKBENCH = ["aiohttp", "wsapp.emulator", "wsapp.deploy", "samtranslator", "moto"]

PROBE = """
import json, sys
import wsapp.handlers.websocket, wsapp.handlers.authorizer
import wsapp.management, wsapp.store
print(json.dumps({
    "modules": sorted(sys.modules),
    "management_clients": len(wsapp.management._clients),
    "stores": len(wsapp.store._stores),
}))
"""


def test_importing_the_handlers_loads_no_workbench_module_and_creates_no_client():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(result.stdout)

    loaded = [m for m in report["modules"] if any(m == w or m.startswith(w + ".") for w in WORKBENCH)]
    assert loaded == []
    assert "wsapp.handlers.message" in report["modules"]
    assert report["management_clients"] == 0
    assert report["stores"] == 0
