"""Shared by the Node.js tests: whether the Node.js runtime is installed, and Node apps written into tmp folders.

Under ``python3 dev.py test`` the runtime is installed into ``.wsapp/node-runtime`` and
``$WSAPP_NODE_RUNTIME`` points there; elsewhere the Node.js tests skip until
``wsapp runtimes install nodejs`` has run.
"""

from __future__ import annotations

# ruff: noqa: E501 - the templates are text, kept on readable lines
import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from wsapp.cli.runtimes import installed_client
from wsapp.emulator.awslambda.launch import node_runtime_dir

EMULATOR_TESTS = Path(__file__).resolve().parents[1] / "emulator"
if str(EMULATOR_TESTS) not in sys.path:
    sys.path.insert(0, str(EMULATOR_TESTS))

from emukit import HEADER, integration, route  # noqa: E402

NODE_MISSING = "Node.js runtime not installed: run `wsapp runtimes install nodejs`"


@pytest.fixture(scope="session")
def node_runtime() -> Path:
    """The Node.js runtime folder (``LAMBDA_RUNTIME_DIR`` of Node environments); skips when not installed."""
    folder = node_runtime_dir()
    if shutil.which("node") is None or installed_client(folder) is None:
        pytest.skip(NODE_MISSING)
    return folder


def node_function(name: str, handler: str, code: str, *, runtime: str = "nodejs20.x", env: dict[str, str] | None = None) -> str:
    text = f"""\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {runtime}
      Handler: {handler}
      CodeUri: {code}
      Timeout: 5
"""
    if env:
        text += "      Environment:\n        Variables:\n"
        text += "".join(f"          {k}: {json.dumps(v)}\n" for k, v in env.items())
    return text


class NodeApp:
    """A template of Node.js functions with their code folders, written under ``root``.

    ``function()`` adds a function and its integration; ``route()`` sends a route key to one;
    ``file()`` writes a code file (dedented). ``write()`` returns the template's path.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.resources: list[str] = []

    def file(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
        return target

    def function(self, name: str, handler: str, code: str, **options: object) -> NodeApp:
        (self.root / code).mkdir(parents=True, exist_ok=True)
        self.resources.append(node_function(name, handler, code, **options))  # type: ignore[arg-type]
        self.resources.append(integration(f"{name}Integration", name))
        return self

    def route(self, key: str, function: str, *, two_way: bool = False) -> NodeApp:
        name = "".join(ch for ch in key if ch.isalnum()) or "Default"
        self.resources.append(route(f"{name}Route", key, f"{function}Integration", two_way=two_way))
        return self

    def write(self) -> Path:
        template = self.root / "template.yaml"
        template.write_text(HEADER + "".join(self.resources))
        return template


@pytest.fixture
def node_app(tmp_path: Path, node_runtime: Path) -> NodeApp:
    return NodeApp(tmp_path)


@pytest.fixture(scope="module")
def module_node_app(tmp_path_factory: pytest.TempPathFactory, node_runtime: Path) -> NodeApp:
    return NodeApp(tmp_path_factory.mktemp("node-app"))
