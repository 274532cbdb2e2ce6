"""What CloudFormation gives for each resource: its physical name, ``Ref`` and ``Fn::GetAtt`` values.

The values follow the CloudFormation resource reference's "Return values" sections, so what a
function reads from its ``Environment`` (a table's name, a queue's URL, a topic's ARN, the API's
id and endpoint) is what it would read on AWS, and what the emulated services answer to.
Physical names come from the resource's name property when the template sets one, else a
deterministic ``{stack}-{LogicalId}`` (CloudFormation appends a random suffix; locally a stable
name keeps runs repeatable).
"""

from __future__ import annotations

import hashlib
import string
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from wsapp.emulator.template.model import Account

# The property that names each kind of resource, when the template sets it.
NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::ApiGatewayV2::DomainName": "DomainName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}
# Kinds whose physical id is a generated API Gateway-style id rather than a name.
GENERATED_ID = (
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::ApiGatewayV2::IntegrationResponse",
    "AWS::ApiGatewayV2::Model",
)


def physical_name(kind: str, logical: str, name: Any, account: Account, ids: Callable[[], str]) -> str:
    """The resource's physical id; ``name`` is its name property, resolved (or None).

    Only an API's id is drawn from ``ids`` (it is in every URL and ARN a client sees, and a seeded
    gateway repeats it). The other generated ids (routes, integrations, ...) derive from the logical
    id, so adding a resource to a template never shifts the seeded ids of connections and requests.
    """
    if isinstance(name, str) and name:
        return name
    if kind == "AWS::ApiGatewayV2::Api":
        return ids()
    if kind in GENERATED_ID or kind not in NAME_PROPERTY:
        return _derived_id(f"{account.stack_name}/{logical}")
    generated = f"{account.stack_name}-{logical}"
    if account.name_suffix:
        generated = f"{generated}-{account.name_suffix}"
    if kind == "AWS::S3::Bucket":
        return generated.lower()  # bucket names are lower case
    if kind == "AWS::ApiGatewayV2::Stage":
        return logical
    return generated


def arn(account: Account, service: str, resource: str, *, regional: bool = True) -> str:
    region = account.region if regional else ""
    return f"arn:{account.partition}:{service}:{region}:{account.account_id}:{resource}"


def ref_value(kind: str, physical: str, account: Account) -> str:
    """What ``Ref`` returns for a resource of ``kind`` [CloudFormation "Return values"]: for a function
    its name, for a version or an alias its ARN (their physical id, see ``template/functions.py``)."""
    if kind == "AWS::SQS::Queue":
        return queue_url(physical, account)
    if kind == "AWS::SNS::Topic":
        return arn(account, "sns", physical)
    if kind == "AWS::Lambda::LayerVersion":
        return arn(account, "lambda", f"layer:{physical}:1")
    return physical


def queue_url(name: str, account: Account) -> str:
    return f"https://sqs.{account.region}.amazonaws.com/{account.account_id}/{name}"


def stream_label() -> str:
    """The label of every local table's stream (AWS uses the stream's creation time)."""
    return "1970-01-01T00:00:00.000"


def attribute(kind: str, physical: str, attr: str, account: Account, props: Mapping[str, Any]) -> str | None:
    """``Fn::GetAtt`` for the attributes templates use; None for one the emulator does not know."""
    region, suffix = account.region, "amazonaws.com"
    table: dict[str, dict[str, str]] = {
        "AWS::Lambda::Function": {"Arn": arn(account, "lambda", f"function:{physical}")},
        "AWS::DynamoDB::Table": {
            "Arn": arn(account, "dynamodb", f"table/{physical}"),
            "StreamArn": arn(account, "dynamodb", f"table/{physical}/stream/{stream_label()}"),
        },
        "AWS::IAM::Role": {
            "Arn": arn(account, "iam", f"role/{physical}", regional=False),
            "RoleId": physical,
        },
        "AWS::SQS::Queue": {
            "Arn": arn(account, "sqs", physical),
            "QueueName": physical,
            "QueueUrl": queue_url(physical, account),
        },
        "AWS::SNS::Topic": {"TopicArn": arn(account, "sns", physical), "TopicName": physical},
        "AWS::S3::Bucket": {
            "Arn": f"arn:{account.partition}:s3:::{physical}",
            "DomainName": f"{physical}.s3.amazonaws.com",
            "RegionalDomainName": f"{physical}.s3.{region}.amazonaws.com",
            "WebsiteURL": f"http://{physical}.s3-website-{region}.amazonaws.com",
        },
        "AWS::Events::EventBus": {"Arn": arn(account, "events", f"event-bus/{physical}"), "Name": physical},
        "AWS::Lambda::LayerVersion": {"LayerVersionArn": arn(account, "lambda", f"layer:{physical}:1")},
        "AWS::Kinesis::Stream": {"Arn": arn(account, "kinesis", f"stream/{physical}")},
        "AWS::Logs::LogGroup": {"Arn": arn(account, "logs", f"log-group:{physical}:*")},
        "AWS::ApiGatewayV2::DomainName": {
            "RegionalDomainName": f"d-{zlib.crc32(physical.encode()):010d}.execute-api.{region}.{suffix}",
        },
    }
    if kind == "AWS::Events::Rule" and attr == "Arn":
        bus = props.get("EventBusName")
        on = f"{bus}/" if isinstance(bus, str) and bus not in ("", "default") and ":" not in bus else ""
        return arn(account, "events", f"rule/{on}{physical}")
    if kind in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
        # Their physical id is already their ARN: the function's, with the version or alias appended.
        function_arn, _, qualifier = physical.rpartition(":")
        return {
            "AWS::Lambda::Version": {"Version": qualifier, "FunctionArn": function_arn},
            "AWS::Lambda::Alias": {"AliasArn": physical},
        }[kind].get(attr)
    if kind == "AWS::ApiGatewayV2::Api":
        scheme = "wss" if props.get("ProtocolType") == "WEBSOCKET" else "https"
        return {
            "ApiId": physical,
            "ApiEndpoint": f"{scheme}://{physical}.execute-api.{region}.amazonaws.com",
        }.get(attr)
    return table.get(kind, {}).get(attr)


def _derived_id(text: str) -> str:
    """10 lowercase alphanumerics, API Gateway's id format, fixed by ``text``."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(alphabet[b % len(alphabet)] for b in hashlib.sha256(text.encode()).digest()[:10])
