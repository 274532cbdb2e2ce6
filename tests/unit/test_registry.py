import importlib
import os
import subprocess
import sys

import pytest

from wsapp import actions
from wsapp.errors import DuplicateAction
from wsapp.registry import ActionRegistry
from wsapp.registry import registry as app_registry


def test_register_returns_the_function_unchanged():
    registry = ActionRegistry()

    def hello(request):
        return {"hi": 1}

    assert registry.register("hello")(hello) is hello
    assert registry.find("hello").func is hello
    assert registry.names == ["hello"]


def test_a_second_registration_of_a_name_fails():
    registry = ActionRegistry()
    registry.register("x")(lambda r: None)
    with pytest.raises(DuplicateAction, match="'x'"):
        registry.register("x")(lambda r: None)


def test_names_are_sorted_and_two_way_is_recorded():
    registry = ActionRegistry()
    registry.register("zeta")(lambda r: None)
    registry.register("alpha", two_way=True)(lambda r: None)

    assert registry.names == ["alpha", "zeta"]
    assert registry.find("alpha").two_way is True
    assert registry.find("zeta").two_way is False
    assert registry.find("missing") is None


def test_the_app_registers_broadcast_marco_and_ping():
    assert app_registry.names == ["broadcast", "marco", "ping"]
    assert app_registry.find("marco").func is actions.marco
    assert app_registry.find("ping").two_way is True
    assert app_registry.find("broadcast").two_way is False


def test_a_module_that_registers_marco_again_fails_to_import(tmp_path, monkeypatch):
    (tmp_path / "dup_marco_actions.py").write_text(
        "from wsapp import action\n\n\n@action('marco')\ndef my_marco(request):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # The module imports ``wsapp`` as sys.modules has it now: a local gateway started earlier in this
    # process re-imports wsapp (a cold start), so compare against the live modules, not this file's.
    errors = importlib.import_module("wsapp.errors")
    live_registry = importlib.import_module("wsapp.registry").registry
    marco = importlib.import_module("wsapp.actions").marco

    with pytest.raises(errors.DuplicateAction, match="'marco'"):
        importlib.import_module("dup_marco_actions")
    assert live_registry.find("marco").func is marco
    assert "dup_marco_actions" not in sys.modules


def test_the_message_handler_fails_to_import_when_wsapp_actions_names_a_duplicate(tmp_path):
    (tmp_path / "dup_ping_actions.py").write_text(
        "from wsapp import action\n\n\n@action('ping')\ndef my_ping(request):\n    return None\n"
    )
    env = {**os.environ, "WSAPP_ACTIONS": "dup_ping_actions", "PYTHONPATH": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-c", "import wsapp.handlers.message"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DuplicateAction: action 'ping' is already registered" in result.stderr
