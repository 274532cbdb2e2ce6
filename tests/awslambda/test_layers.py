"""Layers and dependencies as Lambda and ``sam build`` give them: a function's layers are on its module
path as ``/opt`` would put them (a later layer wins), its requirements.txt is installed beside its
code, once, and reinstalled when it changes (lambda-runtime-reference §4, §5)."""

from __future__ import annotations

# ruff: noqa: E501 - templates and handler sources are kept on readable lines
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from lifekit import HEADER, connect, integration, route

from wsapp.cli import main
from wsapp.emulator import EmulatorError, LocalGateway
from wsapp.emulator.awslambda.forking import PRELOADED_PACKAGES
from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template import load_app

APPS = Path(__file__).resolve().parents[1] / "apps"
GREETING = APPS / "shared_layer" / "vendor" / "greeting"  # a local package pip builds offline
POWERTOOLS = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"

# Imports the modules a message names and reports where each came from, with sys.path and the environment.
PROBE = """\
import importlib
import json
import os
import sys


def handler(event, context):
    if event["requestContext"]["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    found = {}
    for name in json.loads(event["body"])["modules"]:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            found[name] = {"error": str(exc)}
            continue
        found[name] = {"file": getattr(module, "__file__", None), "value": getattr(module, "VALUE", None)}
    answer = {"found": found, "sys_path": sys.path, "environ": dict(os.environ), "pid": os.getpid()}
    return {"statusCode": 200, "body": json.dumps(answer)}
"""


def write(root: Path, path: str, text: str = "") -> Path:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text))
    return target


def layer(name: str, content: str, *, build_method: str | None = None, kind: str = "AWS::Serverless::LayerVersion") -> str:
    prop = "ContentUri" if kind == "AWS::Serverless::LayerVersion" else "Content"
    text = f"""\
  {name}:
    Type: {kind}
    Properties:
      {prop}: {content}
"""
    if build_method:
        text += f"    Metadata:\n      BuildMethod: {build_method}\n"
    return text


def probe_function(name: str, code: str, layers: list[str], *, module: str = "probe") -> str:
    listed = "".join(f"\n        - {item}" for item in layers) if layers else " []"
    return f"""\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: {module}.handler
      Timeout: 10
      Layers:{listed}
"""


def probe_app(root: Path, layers: list[str], extra: str = "", *, code: str = "fn", module: str = "probe") -> Path:
    """One probing function ``Fn`` in ``root/code`` with ``layers`` (``!Ref X`` or ARNs), on ``$default``."""
    write(root, f"{code}/{module}.py", PROBE)
    text = HEADER + extra + probe_function("Fn", code, layers, module=module) + integration("Integration", "Fn")
    text += route("DefaultRoute", "$default", "Integration", two_way=True)
    (root / "template.yaml").write_text(text)
    return root / "template.yaml"


def probe(gw: LocalGateway, *modules: str) -> dict:
    ws = connect(gw)
    try:
        ws.send(json.dumps({"modules": list(modules)}))
        return json.loads(ws.recv())
    finally:
        ws.close()


def started(template: Path, **options: object) -> LocalGateway:
    options.setdefault("isolation", "process")
    return LocalGateway(template, dynamodb=False, **options)  # type: ignore[arg-type]


@pytest.fixture
def offline(monkeypatch):
    """pip may not reach an index: every install here comes from local folders."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")


# -- layers on the module path ------------------------------------------------------------------------


def test_a_layer_built_with_a_build_method_is_importable_as_from_opt_python(tmp_path):
    # GIVEN a layer as public SAM apps write it: ContentUri a folder of modules, BuildMethod python3.12
    write(tmp_path, "layers/common/lyr_common/__init__.py", 'VALUE = "from the layer"\n')
    template = probe_app(tmp_path, ["!Ref CommonLayer"], layer("CommonLayer", "layers/common/", build_method="python3.12"))
    # WHEN the function imports it
    with started(template) as gw:
        answer = probe(gw, "lyr_common")
    # THEN it comes from the layer's folder, which stands where /opt/python is: right after the task root
    found = answer["found"]["lyr_common"]
    common = tmp_path.resolve() / "layers" / "common"
    assert found["value"] == "from the layer"
    assert found["file"] == str(common / "lyr_common" / "__init__.py")
    assert answer["sys_path"][:2] == [str(tmp_path.resolve() / "fn"), str(common)]
    # PYTHONPATH stays Lambda's own value (the runtime folder, /var/runtime there)
    assert answer["environ"]["PYTHONPATH"] == answer["environ"]["LAMBDA_RUNTIME_DIR"]


@pytest.mark.parametrize(("order", "winner"), [(["First", "Second"], "second"), (["Second", "First"], "first")])
def test_of_two_layers_with_one_module_the_later_listed_wins(tmp_path, order, winner):
    # GIVEN two layers laid out as /opt (no BuildMethod), one a plain AWS::Lambda::LayerVersion with a
    # local Content path (as sam package accepts it), both shipping python/lyr_both.py
    write(tmp_path, "first/python/lyr_both.py", 'VALUE = "first"\n')
    write(tmp_path, "first/python/lyr_only_first.py", 'VALUE = "only in first"\n')
    write(tmp_path, "second/python/lyr_both.py", 'VALUE = "second"\n')
    layers = layer("First", "first") + layer("Second", "second", kind="AWS::Lambda::LayerVersion")
    template = probe_app(tmp_path, [f"!Ref {name}" for name in order], layers)
    with started(template) as gw:
        answer = probe(gw, "lyr_both", "lyr_only_first")
    # THEN, as when Lambda extracts them into one /opt in order, the later layer's file is the one there
    assert answer["found"]["lyr_both"]["value"] == winner
    assert answer["found"]["lyr_only_first"]["value"] == "only in first"


def test_a_layers_site_packages_come_before_its_python_folder_and_bin_and_lib_are_on_the_paths(tmp_path):
    write(tmp_path, "deps/python/lib/python3.12/site-packages/lyr_where.py", 'VALUE = "site-packages"\n')
    write(tmp_path, "deps/python/lyr_where.py", 'VALUE = "python"\n')
    write(tmp_path, "deps/bin/lyr-tool", "#!/bin/sh\necho tool\n").chmod(0o755)
    write(tmp_path, "deps/lib/liblyr.txt", "a shared library would be here\n")
    template = probe_app(tmp_path, ["!Ref DepsLayer"], layer("DepsLayer", "deps"))
    with started(template) as gw:
        answer = probe(gw, "lyr_where")
    deps = tmp_path.resolve() / "deps"
    assert answer["found"]["lyr_where"]["value"] == "site-packages"  # /opt/python/lib/python3.12/site-packages first
    env = answer["environ"]
    assert env["PATH"].split(":")[-1] == str(deps / "bin")  # Lambda's PATH ends with /opt/bin
    assert env["LD_LIBRARY_PATH"].split(":")[-1] == str(deps / "lib")  # …and LD_LIBRARY_PATH with /opt/lib


def test_a_zipped_layer_is_extracted_and_ref_of_a_layer_gives_its_arn(tmp_path):
    with zipfile.ZipFile(tmp_path / "layer.zip", "w") as archive:
        archive.writestr("python/lyr_zipped.py", 'VALUE = "zipped"\n')
    extra = layer("Zipped", "layer.zip")
    template = probe_app(tmp_path, ["!Ref Zipped"], extra)
    text = template.read_text().replace("      Timeout: 10\n", "      Timeout: 10\n      Environment:\n        Variables:\n          LAYER_ARN: !Ref Zipped\n")
    template.write_text(text)
    with started(template) as gw:
        answer = probe(gw, "lyr_zipped")
    assert answer["found"]["lyr_zipped"]["value"] == "zipped"
    assert answer["found"]["lyr_zipped"]["file"].startswith(str(tmp_path.resolve() / ".wsapp" / "deps"))
    # Ref of a LayerVersion is its version's ARN [CloudFormation AWS::Lambda::LayerVersion return values]
    assert answer["environ"]["LAYER_ARN"] == "arn:aws:lambda:us-east-1:123456789012:layer:Zipped:1"


def test_a_layer_not_in_the_template_is_one_warning_and_the_function_runs_without_it(tmp_path):
    template = probe_app(tmp_path, [POWERTOOLS])
    with started(template) as gw:
        answer = probe(gw, "aws_lambda_powertools")
    warnings = [line for line in gw.logs if line.startswith("warning:")]
    assert warnings == [f"warning: Fn: layer {POWERTOOLS} is not in this template and cannot be fetched offline; running without it"]
    assert answer["found"]["aws_lambda_powertools"]["file"]  # installed here, so the import still resolves


def test_a_layers_own_copy_of_a_package_the_runtime_provides_is_the_one_imported(tmp_path):
    # six is among what the fork server has imported before it forks; the layer's copy must win anyway
    write(tmp_path, "newer/python/six.py", 'VALUE = "the layer\'s six"\n')
    template = probe_app(tmp_path, ["!Ref Newer"], layer("Newer", "newer"))
    with started(template) as gw:
        answer = probe(gw, "six")
    assert answer["found"]["six"]["value"] == "the layer's six"


def test_the_fork_servers_preloaded_packages_are_all_known():
    server = Path(__file__).resolve().parents[2] / "wsapp/emulator/awslambda/runtimes/python/forkserver.py"
    script = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("forkserver", {str(server)!r})
forkserver = importlib.util.module_from_spec(spec)
spec.loader.exec_module(forkserver)
before = set(sys.modules)
forkserver._preload()
print(json.dumps(sorted({{m.split(".")[0] for m in set(sys.modules) - before}} - set(sys.stdlib_module_names))))
"""
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60).stdout)
    assert set(loaded) <= PRELOADED_PACKAGES | {"__mp_main__"}


def test_more_than_five_layers_and_a_missing_content_folder_are_template_errors(tmp_path):
    extra = "".join(layer(f"L{i}", f"l{i}") for i in range(6))
    for i in range(6):
        write(tmp_path, f"l{i}/python/x.py")
    template = probe_app(tmp_path, [f"!Ref L{i}" for i in range(6)], extra)
    with pytest.raises(TemplateError, match=r"^Fn: Layers: Cannot reference more than 5 layers\.$"):
        load_app(template)
    template = probe_app(tmp_path, ["!Ref Gone"], layer("Gone", "no/such/folder"))
    with pytest.raises(TemplateError, match=r"^Gone: ContentUri 'no/such/folder' does not exist"):
        load_app(template)


# -- thread isolation ---------------------------------------------------------------------------------


def test_with_thread_isolation_a_layer_is_on_sys_path_until_the_gateway_stops(tmp_path):
    write(tmp_path, "shared/python/lyr_threaded.py", 'VALUE = "threaded"\n')
    template = probe_app(tmp_path, ["!Ref Shared"], layer("Shared", "shared"), module="probe_threaded")
    folder = str(tmp_path.resolve() / "shared" / "python")
    with started(template, isolation="thread") as gw:
        answer = probe(gw, "lyr_threaded")
        assert folder in sys.path
    assert answer["found"]["lyr_threaded"]["value"] == "threaded"
    assert folder not in sys.path


def test_with_thread_isolation_two_functions_whose_layers_disagree_on_a_module_are_refused(tmp_path):
    write(tmp_path, "one/python/lyr_clash.py", 'VALUE = "one"\n')
    write(tmp_path, "two/python/lyr_clash.py", 'VALUE = "two"\n')
    write(tmp_path, "fn/probe_clash_a.py", PROBE)
    write(tmp_path, "fn2/probe_clash_b.py", PROBE)
    text = HEADER + layer("One", "one") + layer("Two", "two")
    text += probe_function("A", "fn", ["!Ref One"], module="probe_clash_a") + integration("AIntegration", "A")
    text += probe_function("B", "fn2", ["!Ref Two"], module="probe_clash_b") + integration("BIntegration", "B")
    text += route("DefaultRoute", "$default", "AIntegration") + route("BRoute", "b", "BIntegration")
    (tmp_path / "template.yaml").write_text(text)
    with pytest.raises(EmulatorError) as refused:
        started(tmp_path / "template.yaml", isolation="thread").start()
    two = tmp_path.resolve() / "two" / "python"
    one = tmp_path.resolve() / "one" / "python"
    assert str(refused.value) == (
        f"B imports module 'lyr_clash' from {two}, but in one process {one} "
        "(another function's dependencies or layers) comes first; use process isolation"
    )


# -- dependencies, as sam build installs them -----------------------------------------------------------


def greeting_app(root: Path, requirements: str) -> Path:
    shutil.copytree(GREETING, root / "vendor" / "greeting")
    write(root, "fn/requirements.txt", requirements)
    return probe_app(root, [])


def installs(gw: LocalGateway) -> list[str]:
    return [line for line in gw.logs if line.startswith("installing dependencies")]


def test_requirements_are_installed_once_reused_and_installed_again_when_they_change(tmp_path, offline):
    template = greeting_app(tmp_path, "../vendor/greeting\n")
    with started(template) as gw:
        first = probe(gw, "greeting")
    assert installs(gw) == ["installing dependencies for Fn (requirements.txt)..."]
    installed = Path(first["found"]["greeting"]["file"]).parent
    assert installed.parent == tmp_path.resolve() / ".wsapp" / "deps"
    # beside the code, as sam build puts it: right after the task root
    assert first["sys_path"][:2] == [str(tmp_path.resolve() / "fn"), str(installed)]

    with started(template) as gw:  # the same requirements: the cache, no install
        second = probe(gw, "greeting")
    assert installs(gw) == []
    assert second["found"]["greeting"]["file"] == first["found"]["greeting"]["file"]

    write(tmp_path, "fn/requirements.txt", "../vendor/greeting  # now with a comment\n")
    with started(template) as gw:
        third = probe(gw, "greeting")
    assert installs(gw) == ["installing dependencies for Fn (requirements.txt)..."]
    assert Path(third["found"]["greeting"]["file"]).parent != installed
    assert not list((tmp_path / ".wsapp" / "deps").glob(".tmp-*"))  # nothing half-made left behind


def test_skipping_installs_uses_no_new_install_and_says_so(tmp_path, offline):
    template = greeting_app(tmp_path, "../vendor/greeting\n")
    with started(template, install_dependencies=False) as gw:
        answer = probe(gw, "greeting")
    assert installs(gw) == []
    assert "warning: Fn: requirements.txt is not installed (dependency installs are skipped)" in gw.logs
    assert "error" in answer["found"]["greeting"]


def test_a_failing_install_is_one_line_naming_the_function_and_pips_error(tmp_path, offline, capsys):
    template = greeting_app(tmp_path, "wsapp-no-such-package==1.0\n")
    with pytest.raises(EmulatorError) as failed:
        started(template).start()
    message = str(failed.value)
    assert message == "Fn: pip install -r requirements.txt failed: ERROR: No matching distribution found for wsapp-no-such-package==1.0"
    assert not list((tmp_path / ".wsapp" / "deps").glob("*"))
    # the CLI: that line, exit status 2, no traceback
    assert main(["local", "--template", str(template), "--port", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"wsapp local: {message}\n"


# -- Node.js -------------------------------------------------------------------------------------------

NODE_HANDLER = """\
const greet = require("lyr-greet");   // from the layer's nodejs/node_modules
const shout = require("lyr-shout");   // from package.json (a file: dependency), installed by npm

exports.handler = async (event) => {
  if (event.requestContext.eventType !== "MESSAGE") return { statusCode: 200 };
  return {
    statusCode: 200,
    body: JSON.stringify({ text: shout(greet("node")), greet: require.resolve("lyr-greet"), shout: require.resolve("lyr-shout"), nodePath: process.env.NODE_PATH }),
  };
};
"""


def test_a_nodejs_function_gets_its_layers_node_modules_and_its_package_json_dependencies(tmp_path, node_runtime):
    write(tmp_path, "greet-layer/nodejs/node_modules/lyr-greet/index.js", 'module.exports = (name) => `hello, ${name}`;\n')
    write(tmp_path, "shout/package.json", '{"name": "lyr-shout", "version": "1.0.0", "main": "index.js"}\n')
    write(tmp_path, "shout/index.js", "module.exports = (text) => text.toUpperCase();\n")
    write(tmp_path, "fn/index.js", NODE_HANDLER)
    write(tmp_path, "fn/package.json", '{"name": "fn", "version": "1.0.0", "dependencies": {"lyr-shout": "file:../shout"}}\n')
    text = HEADER + layer("GreetLayer", "greet-layer")
    text += probe_function("Fn", "fn", ["!Ref GreetLayer"], module="index").replace("Timeout: 10", "Timeout: 10\n      Runtime: nodejs20.x")
    text += integration("Integration", "Fn") + route("DefaultRoute", "$default", "Integration", two_way=True)
    (tmp_path / "template.yaml").write_text(text)
    with started(tmp_path / "template.yaml") as gw:
        ws = connect(gw)
        try:
            ws.send('{"action": "hello"}')
            answer = json.loads(ws.recv())
        finally:
            ws.close()
    assert answer["text"] == "HELLO, NODE"
    assert installs(gw) == ["installing dependencies for Fn (package.json)..."]
    layer_modules = tmp_path.resolve() / "greet-layer" / "nodejs" / "node_modules"
    assert answer["greet"] == str(layer_modules / "lyr-greet" / "index.js")
    assert answer["shout"] == str(tmp_path.resolve() / "shout" / "index.js")  # npm links a file: folder
    head = answer["nodePath"].split(":")[:2]
    assert head[0].startswith(str(tmp_path.resolve() / ".wsapp" / "deps")) and head[1] == str(layer_modules)


def test_a_failing_npm_install_is_one_line_naming_the_function_and_npms_error(tmp_path, node_runtime):
    write(tmp_path, "fn/index.js", NODE_HANDLER)
    write(tmp_path, "fn/package.json", '{"name": "fn", "version": "1.0.0", "dependencies": {"lyr-gone": "file:../gone.tgz"}}\n')
    text = HEADER + probe_function("Fn", "fn", [], module="index").replace("Timeout: 10", "Timeout: 10\n      Runtime: nodejs20.x")
    text += integration("Integration", "Fn") + route("DefaultRoute", "$default", "Integration", two_way=True)
    (tmp_path / "template.yaml").write_text(text)
    with pytest.raises(EmulatorError) as failed:
        started(tmp_path / "template.yaml").start()
    gone = tmp_path.resolve() / "gone.tgz"
    assert str(failed.value) == f"Fn: npm install failed: npm error enoent ENOENT: no such file or directory, open '{gone}'"


def test_concurrent_installs_of_one_requirements_file_leave_one_complete_copy_and_no_leftovers(tmp_path, offline):
    from concurrent.futures import ThreadPoolExecutor

    from wsapp.emulator.awslambda.dependencies import Dependencies

    shutil.copytree(GREETING, tmp_path / "vendor" / "greeting")
    requirements = write(tmp_path, "fn/requirements.txt", "../vendor/greeting\n")
    cache = tmp_path / ".wsapp"
    with ThreadPoolExecutor(2) as pool:  # two emulators starting at once
        runs = [pool.submit(Dependencies(cache).python, requirements, "python3.12", "x86_64", "Fn") for _ in range(2)]
        folders = {run.result() for run in runs}
    assert len(folders) == 1
    (folder,) = folders
    assert (folder / "greeting.py").is_file()
    # an install that was interrupted (its process is gone) left its temporary folder behind
    (folder.parent / f".tmp-{folder.name}-999999999-abandoned").mkdir()
    shutil.rmtree(folder)  # and the cache is gone: the next start installs again, and clears the leftover
    assert Dependencies(cache).python(requirements, "python3.12", "x86_64", "Fn") == folder
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]


def test_an_edited_layer_module_is_picked_up_by_the_next_event(tmp_path):
    module = write(tmp_path, "live/python/lyr_live.py", 'VALUE = "before"\n')
    template = probe_app(tmp_path, ["!Ref Live"], layer("Live", "live"))
    with started(template) as gw:
        before = probe(gw, "lyr_live")
        module.write_text('VALUE = "after"\n')
        later = time.time() + 10  # a clearly newer mtime, whatever the file system's granularity
        os.utime(module, (later, later))
        time.sleep(0.6)  # the code watcher looks a few times a second
        after = probe(gw, "lyr_live")
    assert before["found"]["lyr_live"]["value"] == "before"
    assert after["found"]["lyr_live"]["value"] == "after"
    assert after["pid"] != before["pid"]  # a fresh environment, as after deploying a new layer version
