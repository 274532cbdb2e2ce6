"""environment.yml (conda) and pyproject.toml describe the same install."""

import tomllib

import yaml
from packaging.specifiers import SpecifierSet

from wsapp.testing import ROOT


def test_the_conda_environment_installs_wsapp_with_its_test_and_lab_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict) and "pip" in dep)
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])

    assert pip == ["-e .[test,lab]"]
    assert {"test", "lab"} <= extras


def test_python_3_11_is_the_oldest_supported_everywhere():
    requires = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    env = yaml.safe_load((ROOT / "environment.yml").read_text())

    assert "3.11" in requires
    assert "3.10" not in requires
    assert "python>=3.11" in env["dependencies"]
