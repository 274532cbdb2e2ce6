"""Building what a template says, as ``sam build`` does: a ``wsapp init`` project's functions from their
``CodeUri`` with their ``requirements.txt``, for their ``Runtime`` and ``Architectures``.

Dependencies are resolved from PyPI by aws-lambda-builders with a Python of the runtime's version
(``python3.12``); each test session resolves into a cache of its own, so nothing from an earlier run
stands in for a real resolution.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wsapp.cli import main
from wsapp.deploy.build import Builder, BuildSpec
from wsapp.deploy.package import PackagingError
from wsapp.deploy.targets import build_specs, build_template

ROOT = Path(__file__).resolve().parents[2]
COMPILED = "MarkupSafe==3.0.2"  # small, with manylinux wheels for cp312 on both architectures
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(cache=tmp_path_factory.mktemp("lambda-deps"))


def new_project(folder: Path, *, architecture: str = "arm64", requirement: str = COMPILED) -> Path:
    assert main(["init", str(folder), "--name", "chat_app"]) == 0
    requirements = folder / "src" / "requirements.txt"
    requirements.write_text(requirements.read_text() + requirement + "\n")
    template = folder / "template.yaml"
    template.write_text(
        template.read_text().replace("Architectures: [arm64]", f"Architectures: [{architecture}]")
    )
    return folder


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_an_init_project_ships_its_code_its_compiled_dependency_for_the_target_and_wsapp(
    architecture, builder, tmp_path, capsys
):
    project = new_project(tmp_path / "chat-app", architecture=architecture)
    specs = {s.logical_id: s for s in build_specs(project / "template.yaml")}
    assert set(specs) == {"WebSocketFunction", "AuthorizerFunction"}
    spec = specs["WebSocketFunction"]
    assert (spec.source, spec.runtime, spec.architecture) == (project / "src", "python3.12", architecture)
    assert spec.build_method == "makefile"  # src/Makefile: what `sam build` runs too

    built = build_template(project / "template.yaml", builder=builder)
    artifact = built["WebSocketFunction"].artifact
    files = names(artifact.data)
    archive = zipfile.ZipFile(io.BytesIO(artifact.data))
    # the project's own code, wsapp (vendored: requirements.txt does not list it) and its dependencies
    assert "chat_app/actions.py" in files and "wsapp/handlers/websocket.py" in files
    assert {"jwt/__init__.py", "aws_lambda_powertools/__init__.py", "snapshot_restore_py.py"} <= set(files)
    assert not [n for n in files if n.startswith(("wsapp/emulator/", "wsapp/deploy/", "wsapp/cli/"))]
    assert not [n for n in files if n.endswith(".pyc")]
    # the compiled part is the target's: a CPython 3.12 extension whose ELF header names the architecture
    machine = "aarch64" if architecture == "arm64" else "x86_64"
    [so] = [n for n in files if n.startswith("markupsafe/") and n.endswith(".so")]
    assert so == f"markupsafe/_speedups.cpython-312-{machine}-linux-gnu.so"
    header = archive.read(so)[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_MACHINE[architecture]
    # both functions run the same code: one artifact, under the SHA-256 of its bytes
    assert built["AuthorizerFunction"].artifact == artifact
    assert artifact.key == f"wsapp/{artifact.sha256}.zip"


def test_two_builds_of_the_same_sources_are_the_same_bytes(builder, tmp_path):
    project = new_project(tmp_path / "chat-app")
    first = build_template(project / "template.yaml", builder=builder)["WebSocketFunction"].artifact
    (project / "src" / "chat_app" / "actions.py").touch()  # a new mtime, the same content
    again = build_template(project / "template.yaml", builder=builder)["WebSocketFunction"].artifact
    assert again.sha256 == first.sha256
    # a changed source is a new artifact
    actions = project / "src" / "chat_app" / "actions.py"
    actions.write_text(actions.read_text() + "\n# changed\n")
    changed = build_template(project / "template.yaml", builder=builder)["WebSocketFunction"].artifact
    assert changed.sha256 != first.sha256


def test_the_repos_template_ships_wsapp_and_its_runtime_dependencies_only(builder):
    built = build_template(ROOT / "template.yaml", builder=builder)
    artifact = built["WebSocketFunction"].artifact
    assert built["AuthorizerFunction"].artifact == artifact
    files = names(artifact.data)
    tops = {n.split("/")[0] for n in files if ".dist-info" not in n}
    assert {"wsapp", "jwt", "aws_lambda_powertools", "snapshot_restore_py.py"} <= tops
    assert not tops & {"boto3", "botocore", "aiohttp", "yaml", "samtranslator", "moto", "tests", "notebooks"}
    assert not tops & {"Makefile", "template.yaml", "README.md", ".venv"}  # not the repo root
    workbench = ("wsapp/emulator/", "wsapp/deploy/", "wsapp/cli/", "wsapp/scaffold/", "wsapp/pytest_plugin")
    assert not [n for n in files if n.startswith(workbench)]
    assert not [n for n in files if n.endswith((".pyc", ".so"))]


def test_the_handlers_import_from_the_unzipped_artifact_alone(builder, tmp_path):
    artifact = build_template(ROOT / "template.yaml", builder=builder)["WebSocketFunction"].artifact
    zipfile.ZipFile(io.BytesIO(artifact.data)).extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import wsapp.handlers.websocket, wsapp.handlers.authorizer, jwt, aws_lambda_powertools;"
        "mods = [wsapp, jwt, aws_lambda_powertools];"
        "assert all(m.__file__.startswith(sys.argv[1]) for m in mods), [m.__file__ for m in mods];"
        "assert 'aiohttp' not in sys.modules"
    )
    subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path)], check=True, timeout=60)


def test_a_python_layer_is_built_under_python_and_zipped_on_its_own(builder, tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "requirements.txt").write_text(COMPILED + "\n")
    (layer / "shared.py").write_text("VALUE = 1\n")
    spec = BuildSpec("SharedLayer", "layer", layer, "python3.12", "x86_64", build_method="python3.12")
    files = names(builder.artifact(spec).data)
    assert "python/shared.py" in files
    assert "python/markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so" in files


def test_a_handler_the_build_does_not_hold_is_refused_before_upload(builder, tmp_path, capsys):
    project = new_project(tmp_path / "chat-app", requirement="")
    template = project / "template.yaml"
    template.write_text(
        template.read_text().replace("wsapp.handlers.authorizer.handler", "chat_app.auth.handler")
    )
    with pytest.raises(
        PackagingError, match=r"AuthorizerFunction: the built code has no module chat_app\.auth "
    ):
        build_template(template, builder=builder)
    # the CLI says so in one line, exit 2
    argv = ["deploy", "--stack-name", "x", "--template", str(template), "--dry-run", "--region", "us-east-1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no module chat_app.auth for Handler chat_app.auth.handler" in err


def test_a_requirement_pip_cannot_resolve_is_one_line(builder, tmp_path):
    source = tmp_path / "code"
    source.mkdir()
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (source / "requirements.txt").write_text("no-such-package-wsapp-test==0.0.1\n")
    spec = BuildSpec("Fn", "function", source, "python3.12", "arm64", handler="app.handler")
    with pytest.raises(PackagingError) as refused:
        builder.artifact(spec)
    assert str(refused.value).startswith("Fn: ") and "\n" not in str(refused.value)
    assert "no-such-package-wsapp-test" in str(refused.value)
