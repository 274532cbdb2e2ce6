import pytest

from wsapp.errors import DuplicateAction
from wsapp.registry import ActionRegistry


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
