"""wsapp's pytest plugin, run the way a project runs it: pytest sessions of their own (pytester), with
settings from the configuration file and the command line, against a real gateway.

The inner sessions get ``-p wsapp.pytest_plugin`` as wsapp's own suite does: the entry point is tested
from a built wheel in tests/cli/test_project_init.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
# pytest-asyncio (installed with pytest-aiohttp) warns in every session that does not set its loop scope
PLUGIN = ("-p", "wsapp.pytest_plugin", "-p", "no:cacheprovider")
PLUGIN += ("-o", "asyncio_default_fixture_loop_scope=function")
SECRET = "a-project-secret-that-is-long-enough-for-hs256"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*PLUGIN, *args)


def test_importing_the_plugin_loads_neither_the_emulator_nor_a_client_library():
    heavy = ("aiohttp", "boto3", "botocore", "websocket", "moto", "samtranslator")
    probe = (
        "import json, sys; import wsapp.pytest_plugin; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r} "
        "or m.startswith('wsapp.emulator'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(done.stdout) == []


def test_settings_come_from_the_config_file_relative_to_it_and_the_command_line_overrides(pytester):
    pytester.makeini(
        """
        [pytest]
        wsapp_template = app/template.yaml
        wsapp_parameters =
            StageName=dev
            Colour=blue=green
        wsapp_isolation = thread
        """
    )
    pytester.makepyfile(
        test_settings="""
        import json

        def test_show(wsapp_settings, pytestconfig):
            shown = [str(wsapp_settings.template), dict(wsapp_settings.parameters), wsapp_settings.isolation]
            (pytestconfig.rootpath / "settings.json").write_text(json.dumps(shown))
        """
    )
    root = pytester.path

    def shown(result: pytest.RunResult) -> list:
        result.assert_outcomes(passed=1)
        return json.loads((root / "settings.json").read_text())

    assert shown(run(pytester)) == [
        str(root / "app" / "template.yaml"),
        {"StageName": "dev", "Colour": "blue=green"},
        "thread",
    ]
    overridden = run(
        pytester, "--wsapp-template", "other.yaml", "--wsapp-parameter", "StageName=qa",
        "--wsapp-isolation", "process",
    )  # fmt: skip
    assert shown(overridden) == [
        str(root / "other.yaml"),
        {"StageName": "qa", "Colour": "blue=green"},
        "process",
    ]


def test_defaults_are_template_yaml_in_the_rootdir_and_the_environments_isolation(pytester, monkeypatch):
    monkeypatch.delenv("WSAPP_ISOLATION", raising=False)
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        test_defaults=f"""
        def test_defaults(wsapp_settings):
            assert str(wsapp_settings.template) == {str(pytester.path / "template.yaml")!r}
            assert wsapp_settings.parameters == {{}} and wsapp_settings.isolation is None
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_a_malformed_parameter_or_isolation_is_one_usage_error(pytester):
    pytester.makeini("[pytest]\nwsapp_parameters = StageName\n")
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*wsapp_parameters wants KEY=VALUE, got 'StageName'*"])

    pytester.makeini("[pytest]\nwsapp_isolation = fork\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*wsapp_isolation must be process or thread, not 'fork'*"])


def test_without_a_template_only_the_tests_that_need_one_fail_and_they_say_where_it_was_looked_for(pytester):
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        test_missing="""
        def test_gateway(local_gateway):
            pass

        def test_unrelated():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*wsapp: no template at {pytester.path / 'template.yaml'}*"])


def test_the_fixtures_serve_the_template_with_its_parameters_and_close_connections_after_each_test(pytester):
    """The repository's template with a stage and a token secret of the session's own: the token fixtures
    follow the secret, ``management_client`` reaches the connections, and the next test finds the first
    test's connection closed (its ``$disconnect`` ran)."""
    pytester.makeini(f"[pytest]\nwsapp_template = {REPO / 'template.yaml'}\n")
    pytester.makepyfile(
        test_fixtures="""
        import json
        import time

        import pytest
        import websocket

        from wsapp.auth import LOCAL_DEV_SECRET, issue_token

        opened = []


        def test_connect_send_and_manage(local_gateway, ws_connect, management_client):
            assert local_gateway.url.endswith("/qa")
            ws = ws_connect(subject="carol")
            assert ws.subprotocol == "wsapp.v1"
            ws.send(json.dumps({"action": "marco"}))
            assert json.loads(ws.recv())["action"] == "polo"
            assert ws.connection_id in local_gateway.connection_ids
            management_client.post_to_connection(ConnectionId=ws.connection_id, Data=b"pushed")
            assert ws.recv() == "pushed"
            opened.append(ws.connection_id)


        def test_the_last_tests_connection_was_closed(local_gateway):
            deadline = time.monotonic() + 5
            while opened[0] in local_gateway.connection_ids and time.monotonic() < deadline:
                time.sleep(0.02)
            assert opened[0] not in local_gateway.connection_ids


        def test_the_token_follows_the_secret_parameter(ws_connect, wsapp_token):
            ws_connect(token=wsapp_token)
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                ws_connect(token=issue_token("pytest", secret=LOCAL_DEV_SECRET))
            assert refused.value.status_code == 403
        """
    )
    result = run(pytester, "--wsapp-parameter", "StageName=qa", "--wsapp-parameter", f"TokenSecret={SECRET}")
    result.assert_outcomes(passed=3)


def test_invoke_function_runs_one_function_on_one_event_and_records_its_posts(pytester):
    (pytester.path / "template.yaml").write_text((REPO / "template.yaml").read_text())
    (pytester.path / "events").mkdir()
    event = json.loads((REPO / "events" / "message_broadcast.json").read_text())
    (pytester.path / "events" / "broadcast.json").write_text(json.dumps(event))
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        test_invoke=textwrap.dedent("""
        def test_broadcast_with_nobody_connected_posts_nothing(invoke_function):
            outcome = invoke_function("events/broadcast.json")
            assert outcome.invocation.ok and outcome.invocation.value == {"statusCode": 200}
            assert outcome.posts == [] and outcome.messages == []

        def test_an_unknown_action_is_answered_to_the_sender(invoke_function):
            import json
            event = json.load(open("events/broadcast.json"))
            event["body"] = json.dumps({"action": "dance"})
            [reply] = invoke_function(event).messages
            assert reply["action"] == "default" and "marco" in reply["actions"]
        """)
    )
    run(pytester).assert_outcomes(passed=2)


def test_a_local_gateway_of_the_projects_own_is_what_the_other_fixtures_use(pytester):
    """A conftest.py overrides ``local_gateway`` with a TLS gateway: ``ws_connect`` trusts its CA and
    ``management_client`` verifies against it."""
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(
        f"""
        import pytest

        from wsapp.emulator import LocalGateway


        @pytest.fixture(scope="session")
        def local_gateway(tmp_path_factory):
            tls_dir = tmp_path_factory.mktemp("tls")
            with LocalGateway({str(REPO / "template.yaml")!r}, tls=True, tls_dir=tls_dir) as gw:
                yield gw
        """
    )
    pytester.makepyfile(
        test_tls="""
        import json


        def test_wss(local_gateway, ws_connect, management_client):
            assert local_gateway.url.startswith("wss://")
            ws = ws_connect()
            ws.send(json.dumps({"action": "marco"}))
            assert json.loads(ws.recv())["action"] == "polo"
            described = management_client.get_connection(ConnectionId=ws.connection_id)
            assert described["Identity"]["SourceIp"] == "127.0.0.1"
        """
    )
    run(pytester).assert_outcomes(passed=1)
