"""The AWS::LanguageExtensions transform, offline: each expansion as the CloudFormation documentation
shows it ("Fn::ForEach" and its examples, "Fn::Length", "Fn::ToJsonString", "Fn::FindInMap"), and a
one-line TemplateError for what CloudFormation refuses."""

from __future__ import annotations

import pytest

from wsapp.emulator import TemplateError
from wsapp.emulator.template.intrinsics import Resolver
from wsapp.emulator.template.language_extensions import expand
from wsapp.emulator.template.parameters import resolve_parameters, typed

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}


def template(resources: dict, **sections) -> dict:
    return {"Transform": "AWS::LanguageExtensions", "Resources": resources, **sections}


def topic_loop(collection) -> dict:
    return {
        "Fn::ForEach::Topics": [
            "TopicName",
            collection,
            {
                "SnsTopic${TopicName}": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {"TopicName": {"Fn::Join": [".", [{"Ref": "TopicName"}, "fifo"]]}},
                }
            },
        ]
    }


def test_a_loop_over_a_list_makes_one_resource_per_item_with_the_identifier_substituted():
    out = expand(template(topic_loop(["Success", "Failure"])), PSEUDO)
    assert out["Resources"] == {
        "SnsTopicSuccess": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Join": [".", ["Success", "fifo"]]}},
        },
        "SnsTopicFailure": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Join": [".", ["Failure", "fifo"]]}},
        },
    }
    assert "Transform" not in out  # the only transform, done


def test_the_collection_may_be_a_comma_delimited_list_parameter_with_the_value_given():
    declared = {"Names": {"Type": "CommaDelimitedList", "Default": "A,B"}}
    values = typed(declared, resolve_parameters(declared, {"Names": "Red, Green ,Blue"}))
    out = expand(template(topic_loop({"Ref": "Names"}), Parameters=declared), {**PSEUDO, **values})
    assert list(out["Resources"]) == ["SnsTopicRed", "SnsTopicGreen", "SnsTopicBlue"]  # members trimmed


def test_ampersand_drops_the_non_alphanumeric_characters_of_the_item():
    loop = {
        "Fn::ForEach::Routes": [
            "Key",
            ["send-message", "get.status"],
            {"&{Key}Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "${Key}"}}},
        ]
    }
    out = expand(template(loop), PSEUDO)
    assert out["Resources"] == {
        "sendmessageRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "send-message"}},
        "getstatusRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "get.status"}},
    }


def test_nested_loops_in_outputs_with_intrinsic_names_in_get_att():
    # The documentation's example: Fn::GetAtt of a Fn::Sub'd logical id and a Ref'd attribute name.
    outputs = {
        "Fn::ForEach::BucketOutputs": [
            "Identifier",
            ["A", "B"],
            {
                "Fn::ForEach::GetAttLoop": [
                    "Property",
                    ["Arn", "DomainName"],
                    {
                        "S3Bucket${Identifier}${Property}": {
                            "Value": {
                                "Fn::GetAtt": [{"Fn::Sub": "S3Bucket${Identifier}"}, {"Ref": "Property"}]
                            }
                        }
                    },
                ]
            },
        ]
    }
    out = expand(template({}, Outputs=outputs), PSEUDO)
    assert out["Outputs"] == {
        "S3BucketAArn": {"Value": {"Fn::GetAtt": ["S3BucketA", "Arn"]}},
        "S3BucketADomainName": {"Value": {"Fn::GetAtt": ["S3BucketA", "DomainName"]}},
        "S3BucketBArn": {"Value": {"Fn::GetAtt": ["S3BucketB", "Arn"]}},
        "S3BucketBDomainName": {"Value": {"Fn::GetAtt": ["S3BucketB", "DomainName"]}},
    }


def test_loops_in_properties_and_conditions():
    resources = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Environment": {
                    "Variables": {
                        "Fn::ForEach::Vars": ["Name", ["A", "B"], {"VAR_${Name}": "value of ${Name}"}]
                    }
                }
            },
        }
    }
    conditions = {
        "Fn::ForEach::Envs": ["Env", ["Dev", "Prod"], {"Is${Env}": {"Fn::Equals": [{"Ref": "Env"}, "Prod"]}}]
    }
    out = expand(template(resources, Conditions=conditions), PSEUDO)
    assert out["Resources"]["Fn"]["Properties"]["Environment"]["Variables"] == {
        "VAR_A": "value of A",
        "VAR_B": "value of B",
    }
    assert out["Conditions"] == {
        "IsDev": {"Fn::Equals": ["Dev", "Prod"]},
        "IsProd": {"Fn::Equals": ["Prod", "Prod"]},
    }


def test_length_to_json_string_and_find_in_map_resolve_from_parameters_and_mappings():
    declared = {
        "Names": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
        "Env": {"Type": "String", "Default": "x"},
    }
    values = {**PSEUDO, **typed(declared, resolve_parameters(declared, {}))}
    variables = {
        "COUNT": {"Fn::Length": {"Ref": "Names"}},
        "LITERAL_COUNT": {"Fn::Length": [1, {"Ref": "Env"}]},
        "JSON": {
            "Fn::ToJsonString": {"key1": "value1", "key2": {"Ref": "Env"}, "list": [{"Ref": "AWS::Region"}]}
        },
        "FOUND": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]},
        "DEFAULTED": {"Fn::FindInMap": ["Sizes", "missing", "Memory", {"DefaultValue": 128}]},
        "LATER": {"Fn::ToJsonString": {"table": {"Ref": "Table"}}},  # a resource: left for deploy time
    }
    resources = {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": variables}}}
    }
    out = expand(template(resources, Parameters=declared, Mappings={"Sizes": {"x": {"Memory": 512}}}), values)
    assert out["Resources"]["Fn"]["Properties"]["Environment"]["Variables"] == {
        "COUNT": 3,
        "LITERAL_COUNT": 2,
        "JSON": '{"key1":"value1","key2":"x","list":["us-east-1"]}',  # compact, as documented
        "FOUND": 512,
        "DEFAULTED": 128,
        "LATER": {"Fn::ToJsonString": {"table": {"Ref": "Table"}}},
    }


def test_what_is_left_for_deploy_time_resolves_with_the_resources_values():
    resolver = Resolver({"Table": "calls", "Items": ["a", "b"]}, lambda *a: None)
    assert resolver.resolve({"Fn::ToJsonString": {"table": {"Ref": "Table"}}}, "Fn") == '{"table":"calls"}'
    assert resolver.resolve({"Fn::Length": [{"Ref": "Table"}, {"Ref": "Table"}]}, "Fn") == 2
    assert resolver.resolve({"Fn::Join": [",", {"Ref": "Items"}]}, "Fn") == "a,b"


def test_deletion_and_update_replace_policies_given_by_intrinsics_are_resolved():
    resources = {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]},
            "UpdateReplacePolicy": {"Fn::FindInMap": ["Policies", {"Ref": "Stage"}, "Replace"]},
        }
    }
    sections = {
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Mappings": {"Policies": {"prod": {"Replace": "Snapshot"}}},
    }
    out = expand(template(resources, **sections), {**PSEUDO, "Stage": "prod"})
    assert out["Resources"]["Table"]["DeletionPolicy"] == "Retain"
    assert out["Resources"]["Table"]["UpdateReplacePolicy"] == "Snapshot"


def test_the_serverless_transform_is_left_to_run_next():
    out = expand(
        {"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], "Resources": {}}, PSEUDO
    )
    assert out["Transform"] == "AWS::Serverless-2016-10-31"


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            topic_loop({"Fn::GetAtt": ["Table", "Arn"]}),
            "Resources: Fn::ForEach::Topics: its collection must resolve",
        ),
        (topic_loop({"Ref": "Nope"}), "Ref to unknown parameter or resource 'Nope'"),
        (topic_loop("Success"), "the collection must be a list of text values"),
        (
            {"Fn::ForEach::Bad": ["Id", ["a"]]},
            "Fn::ForEach::Bad must be [Identifier, Collection, {OutputKey: OutputValue}]",
        ),
        ({"Fn::ForEach::Bad": ["my-id", ["a"], {"X${my-id}": {}}]}, "the identifier must be alphanumeric"),
        (
            {"Fn::ForEach::Same": ["Id", ["a", "a"], {"X${Id}": {}}]},
            "Fn::ForEach generates 'Xa', which already exists",
        ),
        (
            {"Xa": {}, "Fn::ForEach::Clash": ["Id", ["a"], {"X${Id}": {}}]},
            "generates 'Xa', which already exists",
        ),
        (
            {"Fn::ForEach::Outer": ["A", ["1"], {"Fn::ForEach::Inner": ["A", ["2"], {"X${A}": {}}]}]},
            "identifier 'A' is already used by an enclosing loop",
        ),
        (
            {"Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Keep"}},
            None,
        ),  # text: CloudFormation judges
        (
            {"Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": {"Ref": "Stage"}}},
            "Table: DeletionPolicy 'dev' is not one of Delete, Retain, RetainExceptOnDelete, Snapshot",
        ),
        (
            {"Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": {"Fn::GetAtt": ["Other", "Arn"]}}},
            "Table: DeletionPolicy must resolve from parameters and mappings",
        ),
    ],
)
def test_what_cloudformation_refuses_is_one_line_naming_the_place(resources, message):
    if message is None:
        expand(template(resources), {**PSEUDO, "Stage": "dev"})
        return
    with pytest.raises(TemplateError) as caught:
        expand(template(resources), {**PSEUDO, "Stage": "dev"})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_loops_nest_at_most_five_deep():
    body: dict = {"X${I0}${I1}${I2}${I3}${I4}${I5}": {}}
    for depth in reversed(range(6)):
        body = {f"Fn::ForEach::L{depth}": [f"I{depth}", ["a"], body]}
    with pytest.raises(TemplateError, match="nest at most 5 deep"):
        expand(template(body), PSEUDO)


def test_the_transform_must_come_before_the_serverless_one():
    declared = {"Transform": ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"], "Resources": {}}
    with pytest.raises(TemplateError, match="must be listed before AWS::Serverless-2016-10-31"):
        expand(declared, PSEUDO)


def test_parameter_store_parameters_resolve_offline_only_for_the_cdk_bootstrap_version():
    bootstrap = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}
    other = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/api-key"}
    assert resolve_parameters({"BootstrapVersion": bootstrap}, {}) == {"BootstrapVersion": "30"}
    # An override is the value itself (there is no Parameter Store to look a name up in).
    assert resolve_parameters({"Key": other}, {"Key": "local-key"}) == {"Key": "local-key"}
    with pytest.raises(TemplateError) as caught:
        resolve_parameters({"Key": other}, {})
    assert str(caught.value) == (
        "parameter Key: reads Parameter Store entry '/app/api-key' at deploy time, which cannot be read"
        " offline: pass --parameter Key=VALUE with its value"
    )


def test_a_loop_without_the_transform_is_refused_as_cloudformation_refuses_it(tmp_path):
    from wsapp.emulator.template import load_app

    loop = "  Fn::ForEach::Topics: [T, [a], {'X${T}': {Type: 'AWS::SNS::Topic'}}]\n"
    (tmp_path / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n" + loop)
    with pytest.raises(TemplateError) as caught:
        load_app(tmp_path / "template.yaml")
    assert str(caught.value) == (
        "Resources: Fn::ForEach::Topics needs Transform: AWS::LanguageExtensions"
        " (before AWS::Serverless-2016-10-31)"
    )
