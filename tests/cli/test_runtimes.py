"""``wsapp runtimes``: what is missing is one line and exit 2, before npm runs; ``list`` says what runs."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys

import pytest

from wsapp.cli import main
from wsapp.cli.runtimes import LOCK, MANIFEST, installed_client
from wsapp.emulator.awslambda.launch import node_runtime_dir


def fake_tools(folder, *names):
    """A PATH folder with do-nothing executables of these names."""
    folder.mkdir(exist_ok=True)
    for name in names:
        tool = folder / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    return folder


def test_install_without_npm_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path / "bin", "node")))
    assert main(["runtimes", "install", "nodejs", "--dir", str(tmp_path / "rt")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "wsapp runtimes: `npm` is not on PATH: install Node.js 20 or later with npm "
        "(Debian: apt-get install nodejs npm)\n"
    )
    assert not (tmp_path / "rt").exists()  # nothing written


def test_install_names_the_missing_build_tools(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path / "bin", "node", "npm", "make")))
    assert main(["runtimes", "install", "nodejs", "--dir", str(tmp_path / "rt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    needs = "autoconf automake libtool cmake make g++"
    assert err.startswith(f"wsapp runtimes: building aws-lambda-ric needs {needs};")
    assert "missing: autoconf automake libtool cmake g++ (Debian: apt-get install autoconf" in err


def test_the_pinned_package_set_is_exact_and_locked():
    manifest = json.loads(MANIFEST.read_text())
    lock = json.loads(LOCK.read_text())
    assert manifest["dependencies"]["aws-lambda-ric"].startswith("3.")  # 4.x needs node >= 22
    assert all(version[0].isdigit() for version in manifest["dependencies"].values())  # no ranges
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    for name, version in manifest["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_list_names_this_interpreter_and_the_node_runtime(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WSAPP_NODE_RUNTIME", str(tmp_path / "empty"))
    assert main(["runtimes", "list"]) == 0
    python, node = capsys.readouterr().out.splitlines()
    assert python.startswith(f"python  {'.'.join(map(str, sys.version_info[:3]))} ({sys.executable})")
    assert python.endswith(f"awslambdaric {importlib.metadata.version('awslambdaric')}")
    assert node.startswith("nodejs  ")
    assert "not installed" in node  # nothing in the empty folder (or no node at all)


def test_list_shows_the_installed_client(capsys):
    folder = node_runtime_dir()
    if shutil.which("node") is None or installed_client(folder) is None:
        pytest.skip("Node.js runtime not installed: run `wsapp runtimes install nodejs`")
    assert main(["runtimes", "list"]) == 0
    node = capsys.readouterr().out.splitlines()[1]
    pinned = json.loads(MANIFEST.read_text())["dependencies"]["aws-lambda-ric"]
    assert node.endswith(f"aws-lambda-ric {pinned} in {folder}")
