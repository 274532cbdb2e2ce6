"""``wsapp init``: a new project's own ``pytest`` passes (its notebook under strict nbval) and ``wsapp local``
answers its action over a real WebSocket, right after the command.

wsapp runs from a wheel built from this tree and unpacked onto ``PYTHONPATH``, as pip would install it:
the scaffold must be in the package data and pytest must find the plugin by its ``pytest11`` entry point
(no ``-p``). The functions themselves import the wsapp installed in the environment, as they would
anywhere ``wsapp local`` runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import websocket

from wsapp.auth import LOCAL_DEV_SECRET, issue_token
from wsapp.cli import main as wsapp

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "hello_world"  # what the folder hello-world becomes


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for subprocesses: this tree's wsapp as a built wheel, unpacked onto PYTHONPATH."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the working tree
    shutil.copytree(REPO / "wsapp", source / "wsapp", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = (work / "dist").glob("wsapp-*.whl")
    with zipfile.ZipFile(wheel) as unpacked:
        unpacked.extractall(work / "site")
    outer = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "WSAPP_ISOLATION")  # this run's settings, not the project's
    env = {k: v for k, v in os.environ.items() if k not in outer}
    return {**env, "PYTHONPATH": str(work / "site"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, installed: dict[str, str]) -> Path:
    folder = tmp_path_factory.mktemp("projects") / "hello-world"
    done = subprocess.run(
        [sys.executable, "-m", "wsapp", "init", str(folder)],
        env=installed, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"src/{PACKAGE}/actions.py" in done.stdout
    return folder


def test_init_writes_a_project_of_its_own_that_names_its_actions_module(project: Path):
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "README.md",
        "events/hello.json",
        "notebooks/hello.ipynb",
        "pyproject.toml",
        "requirements-dev.txt",
        "src/Makefile",
        f"src/{PACKAGE}/__init__.py",
        f"src/{PACKAGE}/actions.py",
        "src/requirements.txt",
        "template.yaml",
        "tests/test_hello.py",
    ]
    template = (project / "template.yaml").read_text()
    assert "    CodeUri: src/" in template
    assert f"WSAPP_ACTIONS: {PACKAGE}.actions" in template
    assert "Handler: wsapp.handlers.websocket.handler" in template
    assert template.count("BuildMethod: makefile") == 2  # src/Makefile: sam build ships wsapp too
    assert "build-WebSocketFunction build-AuthorizerFunction:" in (project / "src" / "Makefile").read_text()
    assert "route.request.header.Sec-WebSocket-Protocol" in template
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text()
    assert "on: push" in workflow and "pytest --nbval" in workflow
    readme = (project / "README.md").read_text()
    for command in ("pytest", "wsapp local", "wsapp connect", "wsapp deploy --stack-name hello-world"):
        assert command in readme


def test_the_new_projects_template_passes_cfn_lint(project: Path):
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "template.yaml"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_pytest_passes_in_the_new_project_with_its_notebook_under_strict_nbval(project, installed):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=project, env=installed, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"^tests/test_hello\.py \.{6}", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^notebooks/hello\.ipynb \.{4}", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"\b10 passed\b", done.stdout), done.stdout


def test_wsapp_local_serves_the_new_project_and_answers_its_action(project, installed):
    server = subprocess.Popen(
        [sys.executable, "-m", "wsapp", "local", "--port", "0", "--quiet"],
        cwd=project, env=installed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline() for _ in range(3)]
        assert re.fullmatch(r"WebSocket URL: ws://127\.0\.0\.1:\d+/prod\n", banner[0]), banner
        url = banner[0].split(": ", 1)[1].strip()
        assert banner[1] == f"Management endpoint: {url.replace('ws://', 'http://')}\n", banner
        assert banner[2].startswith("Lambda endpoint: http://127.0.0.1:"), banner
        token = issue_token("alice", secret=LOCAL_DEV_SECRET)
        ws = websocket.create_connection(url, subprotocols=["wsapp.v1", token], timeout=10)
        try:
            ws.send(json.dumps({"action": "hello"}))
            assert json.loads(ws.recv()) == {"action": "hello", "message": "Hello, alice!"}
        finally:
            ws.close()
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors


def test_init_refuses_a_folder_that_is_not_empty_with_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert wsapp(["init", str(tmp_path), "--name", "fresh"]) == 2
    err = capsys.readouterr().err
    assert err == f"wsapp init: {tmp_path} is not empty; give a new or empty folder\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

    assert wsapp(["init", str(tmp_path / "notes.txt"), "--name", "fresh"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("folder", "name", "why"),
    [
        ("2fast", None, "does not make a Python package name"),
        ("app", "my-app", "does not make a Python package name"),
        ("app", "wsapp", "is already a module here"),
        ("app", "json", "is already a module here"),
    ],
)
def test_init_refuses_a_name_that_is_no_package_or_would_hide_a_module(tmp_path, capsys, folder, name, why):
    target = tmp_path / folder
    assert wsapp(["init", str(target), *(["--name", name] if name else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wsapp init: ") and why in err and err.count("\n") == 1
    assert not target.exists()


def test_init_into_an_empty_folder_names_the_package_after_it_or_after_name(tmp_path, capsys):
    (tmp_path / "Chat-Room").mkdir()
    assert wsapp(["init", str(tmp_path / "Chat-Room")]) == 0
    assert (tmp_path / "Chat-Room" / "src" / "chat_room" / "actions.py").is_file()
    assert wsapp(["init", str(tmp_path / "other"), "--name", "lobby"]) == 0
    assert "WSAPP_ACTIONS: lobby.actions" in (tmp_path / "other" / "template.yaml").read_text()
