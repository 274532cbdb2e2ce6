"""template.yaml: cfn-lint clean, and what SAM translates it to is the API the handlers expect."""

import importlib

import pytest
from cfnlint.api import lint, lint_file
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from wsapp.auth import MIN_SECRET_BYTES
from wsapp.testing import TEMPLATE


class NoManagedPolicies:
    """samtranslator asks IAM for managed policy ARNs only when a template names one by short name."""

    def load(self):
        return {}


@pytest.fixture(scope="module")
def translated():
    template = yaml_parse(TEMPLATE.read_text())
    # what `sam package` does to CodeUri before the transform runs in CloudFormation
    template["Globals"]["Function"]["CodeUri"] = "s3://wsapp-artifacts/wsapp.zip"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return transform(template, {"TokenSecret": "x" * 32}, NoManagedPolicies())


def resources(template, type_):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == type_}


def test_cfn_lint_reports_nothing():
    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_cfn_lint_would_report_a_broken_template():
    broken = TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python2.7")
    assert any("python2.7" in str(match) for match in lint(broken))


def test_the_api_is_a_websocket_api_routed_by_action(translated):
    [api] = resources(translated, "AWS::ApiGatewayV2::Api").values()
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"


def test_the_routes_are_connect_disconnect_default_and_ping_on_one_integration(translated):
    routes = {r["RouteKey"]: r for r in resources(translated, "AWS::ApiGatewayV2::Route").values()}

    assert set(routes) == {"$connect", "$disconnect", "$default", "ping"}
    [integration_name] = resources(translated, "AWS::ApiGatewayV2::Integration")
    for route in routes.values():
        assert route["Target"] == {"Fn::Join": ["/", ["integrations", {"Ref": integration_name}]]}


def test_only_connect_is_guarded_by_the_request_authorizer_on_the_subprotocol_header(translated):
    routes = {r["RouteKey"]: r for r in resources(translated, "AWS::ApiGatewayV2::Route").values()}
    [(authorizer_name, authorizer)] = resources(translated, "AWS::ApiGatewayV2::Authorizer").items()

    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == {"Ref": authorizer_name}
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.header.Sec-WebSocket-Protocol"]
    assert "${AuthorizerFunctionAliaslive}" in authorizer["AuthorizerUri"]["Fn::Sub"]
    for key in ("$disconnect", "$default", "ping"):
        assert routes[key].get("AuthorizationType", "NONE") == "NONE"


def test_ping_is_a_two_way_route(translated):
    [(ping_name, ping)] = [
        (name, r)
        for name, r in resources(translated, "AWS::ApiGatewayV2::Route").items()
        if r["RouteKey"] == "ping"
    ]
    [response] = resources(translated, "AWS::ApiGatewayV2::RouteResponse").values()

    assert ping["RouteResponseSelectionExpression"] == "$default"
    assert response["RouteId"] == {"Ref": ping_name}
    assert response["RouteResponseKey"] == "$default"


def test_the_stage_auto_deploys_and_there_is_no_deployment_resource(translated):
    [stage] = resources(translated, "AWS::ApiGatewayV2::Stage").values()

    assert stage["AutoDeploy"] is True
    assert stage["StageName"] == {"Ref": "StageName"}
    assert resources(translated, "AWS::ApiGatewayV2::Deployment") == {}


def test_the_functions_run_python_312_with_the_wsapp_handlers(translated):
    functions = resources(translated, "AWS::Lambda::Function")

    assert {f["Handler"] for f in functions.values()} == {
        "wsapp.handlers.websocket.handler",
        "wsapp.handlers.authorizer.handler",
    }
    assert {f["Runtime"] for f in functions.values()} == {"python3.12"}
    for function in functions.values():
        module, _, name = function["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_each_function_gets_the_setting_its_handler_reads(translated):
    functions = resources(translated, "AWS::Lambda::Function")

    ws_env = functions["WebSocketFunction"]["Environment"]["Variables"]
    auth_env = functions["AuthorizerFunction"]["Environment"]["Variables"]
    assert ws_env["CONNECTIONS_TABLE"] == {"Ref": "ConnectionsTable"}
    assert auth_env["TOKEN_SECRET"] == {"Ref": "TokenSecret"}
    assert "TOKEN_SECRET" not in ws_env


def test_the_token_secret_parameter_is_no_echo_and_long_enough(translated):
    secret = translated["Parameters"]["TokenSecret"]
    assert secret["NoEcho"] is True
    assert secret["MinLength"] == MIN_SECRET_BYTES


def test_the_connections_table_is_keyed_by_connection_id_with_an_expires_at_ttl(translated):
    [table] = resources(translated, "AWS::DynamoDB::Table").values()

    assert table["KeySchema"] == [{"AttributeName": "connectionId", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def statements(translated):
    for role in resources(translated, "AWS::IAM::Role").values():
        for policy in role.get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]
    for policy in resources(translated, "AWS::IAM::Policy").values():
        yield from policy["PolicyDocument"]["Statement"]


def test_no_policy_of_the_template_grants_a_wildcard_resource(translated):
    found = list(statements(translated))

    assert found, "the WebSocket function's role has its own policy"
    for statement in found:
        resource = statement["Resource"]
        assert "*" not in (resource if isinstance(resource, list) else [resource]), statement


def test_the_websocket_function_may_do_what_the_store_and_management_client_do(translated):
    by_sid = {s["Sid"]: s for s in statements(translated)}

    assert set(by_sid["ConnectionTable"]["Action"]) == {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
    }
    assert by_sid["ConnectionTable"]["Resource"] == {"Fn::GetAtt": ["ConnectionsTable", "Arn"]}
    assert by_sid["ManageConnections"]["Action"] == "execute-api:ManageConnections"
    assert "/@connections/" in by_sid["ManageConnections"]["Resource"]["Fn::Sub"]


def test_the_outputs_name_the_websocket_and_connections_urls(translated):
    outputs = translated["Outputs"]

    assert outputs["WebSocketURL"]["Value"]["Fn::Sub"].startswith("wss://${WebSocketApi}.execute-api.")
    assert outputs["ConnectionsURL"]["Value"]["Fn::Sub"].startswith("https://${WebSocketApi}.execute-api.")
    assert outputs["ConnectionsURL"]["Value"]["Fn::Sub"].endswith("/${StageName}/@connections")


def test_api_gateway_invokes_the_functions_alias_which_snapstart_can_serve(translated):
    aliases = resources(translated, "AWS::Lambda::Alias")
    assert set(aliases) == {"WebSocketFunctionAliaslive", "AuthorizerFunctionAliaslive"}
    [integration] = resources(translated, "AWS::ApiGatewayV2::Integration").values()
    assert "${WebSocketFunctionAliaslive}" in integration["IntegrationUri"]["Fn::Sub"]
    permissions = resources(translated, "AWS::Lambda::Permission")
    assert {p["FunctionName"]["Ref"] for p in permissions.values()} == set(aliases)
    # SnapStart is opt-in: on published versions when EnableSnapStart is "true", else None.
    assert translated["Parameters"]["EnableSnapStart"]["Default"] == "false"
    apply_on = {"Fn::If": ["SnapStartEnabled", "PublishedVersions", "None"]}
    for function in resources(translated, "AWS::Lambda::Function").values():
        assert function["SnapStart"] == {"ApplyOn": apply_on}
    enabled = translated["Conditions"]["SnapStartEnabled"]
    assert enabled == {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]}
