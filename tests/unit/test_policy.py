import pytest

from wsapp import policy

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/$connect"


def test_allow_names_this_api_and_stage_and_carries_the_context():
    assert policy.allow("alice", METHOD_ARN, {"sub": "alice", "tier": 3, "admin": False}) == {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*",
                }
            ],
        },
        "context": {"sub": "alice", "tier": 3, "admin": False},
    }


def test_allow_without_context_has_an_empty_one():
    assert policy.allow("alice", METHOD_ARN)["context"] == {}


def test_deny_names_the_exact_method_and_carries_no_context():
    assert policy.deny("anonymous", METHOD_ARN) == {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}],
        },
    }


@pytest.mark.parametrize(
    ("method_arn", "resource"),
    [
        (METHOD_ARN, "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*"),
        (
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdefghij/v2-beta/$connect",
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdefghij/v2-beta/*",
        ),
    ],
)
def test_the_stage_resource_keeps_partition_region_account_api_and_stage(method_arn, resource):
    assert policy.api_stage_resource(method_arn) == resource


@pytest.mark.parametrize(
    "method_arn",
    [
        "",
        "not an arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:wsapp",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod",
        "arn:aws:execute-api:eu-west-1:a1b2c3d4e5/prod/$connect",
        "arn:aws:execute-api:eu-west-1:1:2:a1b2c3d4e5/prod/$connect",
        "arn:aws:execute-api:::/prod/$connect",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5//$connect",
        "execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/$connect",
    ],
)
def test_a_malformed_method_arn_is_a_value_error(method_arn):
    with pytest.raises(ValueError, match="not an execute-api method ARN"):
        policy.allow("alice", method_arn)
