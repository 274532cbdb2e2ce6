"""What a Lambda container imports: the handlers, never the workbench around them."""

import ast
import json
import subprocess
import sys
from pathlib import Path

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


# The emulator is cut like AWS: each part stands in for one service and reaches the others only through
# the interface that service really has (for Lambda, the invoke interface).
EMULATOR = Path(__file__).resolve().parents[2] / "wsapp" / "emulator"
PARTS = ("apigateway", "awslambda", "services", "template")
ALLOWED = {
    "apigateway": {"apigateway", "awslambda.invocation", "template.model", "logs", "errors"},
    "awslambda": {"awslambda", "template.model", "logs", "errors"},
    "services": {"services", "template.model", "errors"},
    "template": {"template", "errors"},
}


def _emulator_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wsapp.emulator"):
            module = node.module.removeprefix("wsapp.emulator").lstrip(".")
            names |= {
                f"{module}.{a.name}".lstrip(".") if module in PARTS or not module else module
                for a in node.names
            }
        elif isinstance(node, ast.Import):
            names |= {
                a.name.removeprefix("wsapp.emulator.")
                for a in node.names
                if a.name.startswith("wsapp.emulator.")
            }
    return names


def _allowed(name: str, rules: set[str]) -> bool:
    return any(name == rule or name.startswith(rule + ".") for rule in rules)


def test_each_emulator_part_imports_only_the_interfaces_of_the_others():
    offending = []
    for part, rules in ALLOWED.items():
        for path in sorted((EMULATOR / part).rglob("*.py")):
            for name in sorted(_emulator_imports(path)):
                if not _allowed(name, rules):
                    offending.append(f"{path.relative_to(EMULATOR)} imports wsapp.emulator.{name}")
    assert offending == []


def test_the_emulator_package_has_its_parts_and_no_loose_service_modules():
    loose = sorted(p.stem for p in EMULATOR.glob("*.py"))
    assert loose == ["__init__", "errors", "gateway", "invoke", "logs", "memory"]
    assert all((EMULATOR / part / "__init__.py").exists() for part in PARTS)


LOAD_PROBE = """
import json, sys
import wsapp, wsapp.locust, wsapp.locust.frames
from wsapp.cli import main
main(["load", "ws://127.0.0.1:9/prod", "--users", "0"])  # refused before anything runs
print(json.dumps(sorted(sys.modules)))
"""


def test_wsapp_load_and_its_package_never_bring_locust_or_gevent_into_the_calling_process():
    # gevent monkey-patches the process that imports Locust: only the Locust subprocesses may.
    result = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(result.stdout)
    assert "wsapp.cli.load" in modules
    assert [m for m in modules if m.split(".")[0] in ("locust", "gevent", "greenlet")] == []
