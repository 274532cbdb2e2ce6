"""wsapp.deploy.environ.overridden: variables set and unset for a block, all restored afterwards."""

import os

import pytest

from wsapp.deploy.environ import overridden


def test_variables_are_set_unset_and_restored_even_when_the_block_fails(monkeypatch):
    monkeypatch.setenv("WSAPP_T_KEPT", "before")
    monkeypatch.setenv("WSAPP_T_HIDDEN", "secret")
    monkeypatch.delenv("WSAPP_T_NEW", raising=False)
    with (
        pytest.raises(RuntimeError),
        overridden({"WSAPP_T_KEPT": "during", "WSAPP_T_HIDDEN": None, "WSAPP_T_NEW": "x"}),
    ):
        assert (os.environ["WSAPP_T_KEPT"], os.environ.get("WSAPP_T_HIDDEN"), os.environ["WSAPP_T_NEW"]) == (
            "during",
            None,
            "x",
        )
        raise RuntimeError("the block fails")
    assert os.environ["WSAPP_T_KEPT"] == "before"
    assert os.environ["WSAPP_T_HIDDEN"] == "secret"
    assert "WSAPP_T_NEW" not in os.environ
