"""Create the template's resources in the embedded services, as CloudFormation would create them.

DynamoDB tables (keys, indexes, streams, TTL; ``AWS::Serverless::SimpleTable`` arrives as a table),
SQS queues, SNS topics and subscriptions, S3 buckets, EventBridge buses and rules, and Kinesis data
streams, each under the name ``Ref`` gives for it, so what a function reads from its ``Environment``
names a resource that exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError

from wsapp.emulator.errors import EmulatorError
from wsapp.emulator.template.model import ResourceSpec, TableSpec, WebSocketApp

TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "TableClass",
)
# CloudFormation's queue properties that are SQS queue attributes (values are strings in the API).
QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
Clients = Callable[[str], Any]  # service name → a boto3 client for the embedded endpoint


def create_all(app: WebSocketApp, clients: Clients) -> None:
    """Every resource of ``app``; one that cannot be created is one line naming it."""
    for table in app.tables:
        _guard(table.logical_id, lambda table=table: _table(clients("dynamodb"), table))
    for resource in app.resources:
        maker = _MAKERS.get(resource.kind)
        if maker is not None:
            _guard(resource.logical_id, lambda r=resource, m=maker: m(clients, r))


def _guard(logical: str, create: Callable[[], None]) -> None:
    try:
        create()
    except (ClientError, ParamValidationError) as exc:
        detail = " ".join(str(exc).split())  # botocore's validation report spans lines
        raise EmulatorError(f"{logical}: cannot create it locally: {detail}") from None


def _as_shape(shape: Any, value: Any) -> Any:
    """``value`` with the scalar types the API's input shape wants: CloudFormation converts a property's
    text to its schema type, so ``ReadCapacityUnits: !Ref Capacity`` (a ``Type: Number`` parameter, which
    CloudFormation hands over as a string) creates the table; botocore alone would refuse the string."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _as_shape(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_as_shape(shape.member, v) for v in value]
    if isinstance(value, str):
        try:
            if kind in ("integer", "long"):
                return int(value)
            if kind in ("float", "double"):
                return float(value)
        except ValueError:
            return value  # botocore's validation names the property
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


def _call(client: Any, operation: str, **args: Any) -> Any:
    """``client.<operation>(**args)`` with the arguments converted as CloudFormation converts them."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return getattr(client, xform_name(operation))(**_as_shape(shape, args))


def _table(client: Any, table: TableSpec) -> None:
    if table.name in client.list_tables()["TableNames"]:
        return  # moto's state is per process: another gateway in this process made it already
    props = table.properties
    args = {k: props[k] for k in TABLE_KEYS if k in props}
    if "StreamSpecification" in args:
        # CloudFormation's StreamSpecification is only a StreamViewType: declaring it enables the stream.
        # DynamoDB's CreateTable wants StreamEnabled too.
        args["StreamSpecification"] = {"StreamEnabled": True, **args["StreamSpecification"]}
    if "BillingMode" not in args and "ProvisionedThroughput" not in args:
        args["BillingMode"] = "PAY_PER_REQUEST"
    _call(client, "CreateTable", TableName=table.name, **args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and _as_shape_bool(ttl.get("Enabled")):
        _call(client, "UpdateTimeToLive", TableName=table.name, TimeToLiveSpecification=ttl)


def _queue(clients: Clients, queue: ResourceSpec) -> None:
    props = queue.properties
    attributes = {k: _text(props[k]) for k in QUEUE_ATTRIBUTES if k in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = _json_text(props["RedrivePolicy"])
    client = clients("sqs")
    try:
        client.create_queue(QueueName=queue.name, Attributes=attributes)
    except client.exceptions.QueueNameExists:
        return  # moto's state is per process: another gateway in this process made it already


def _topic(clients: Clients, topic: ResourceSpec) -> None:
    props = topic.properties
    attributes = {k: _text(props[k]) for k in ("FifoTopic", "ContentBasedDeduplication") if k in props}
    arn = clients("sns").create_topic(Name=topic.name, Attributes=attributes)["TopicArn"]
    for listed in props.get("Subscription") or ():  # the topic's own Subscription list
        _subscribe(clients, {**listed, "TopicArn": arn})


def _subscription(clients: Clients, subscription: ResourceSpec) -> None:
    _subscribe(clients, subscription.properties)


def _subscribe(clients: Clients, props: Mapping[str, Any]) -> None:
    """An SNS subscription the embedded SNS delivers: to a queue (sqs), a URL (http/https), or a
    function (lambda: handed to the emulator's Lambda service, ``lambda_targets.py``)."""
    protocol = str(props.get("Protocol", "")).lower()
    if protocol not in ("sqs", "http", "https", "lambda"):
        return
    attributes = {}
    if "RawMessageDelivery" in props:
        attributes["RawMessageDelivery"] = _text(props["RawMessageDelivery"])
    if "FilterPolicy" in props:
        attributes["FilterPolicy"] = _json_text(props["FilterPolicy"])
    if "FilterPolicyScope" in props:
        attributes["FilterPolicyScope"] = str(props["FilterPolicyScope"])
    clients("sns").subscribe(
        TopicArn=str(props["TopicArn"]),
        Protocol=protocol,
        Endpoint=str(props["Endpoint"]),
        Attributes=attributes,
    )


def _bucket(clients: Clients, bucket: ResourceSpec) -> None:
    client = clients("s3")
    region = client.meta.region_name
    args: dict[str, Any] = {"Bucket": bucket.name}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**args)
    except client.exceptions.BucketAlreadyOwnedByYou:
        return


def _bus(clients: Clients, bus: ResourceSpec) -> None:
    client = clients("events")
    if bus.name in {b["Name"] for b in client.list_event_buses()["EventBuses"]}:
        return
    client.create_event_bus(Name=bus.name)


def _rule(clients: Clients, rule: ResourceSpec) -> None:
    """An EventBridge rule and its targets (the walker keeps only targets it could resolve)."""
    props = rule.properties
    client = clients("events")
    args: dict[str, Any] = {"Name": rule.name, "State": str(props.get("State", "ENABLED"))}
    bus = props.get("EventBusName")
    if bus:
        args["EventBusName"] = str(bus)
    if "EventPattern" in props:
        args["EventPattern"] = _json_text(props["EventPattern"])
    if "ScheduleExpression" in props:
        args["ScheduleExpression"] = str(props["ScheduleExpression"])
    if "Description" in props:
        args["Description"] = str(props["Description"])
    client.put_rule(**args)
    targets = [{k: _target_value(k, v) for k, v in t.items()} for t in props.get("Targets") or ()]
    if targets:
        where = {"EventBusName": args["EventBusName"]} if bus else {}
        _call(client, "PutTargets", Rule=rule.name, Targets=targets, **where)


def _target_value(key: str, value: Any) -> Any:
    return _json_text(value) if key == "Input" else value  # Input is JSON text in the API


def _stream(clients: Clients, stream: ResourceSpec) -> None:
    """A Kinesis data stream: ``ShardCount`` shards (1 when unset, CloudFormation's default for a
    provisioned stream), or on demand as ``StreamModeDetails`` says."""
    client = clients("kinesis")
    if stream.name in client.list_streams()["StreamNames"]:
        return
    props = stream.properties
    args: dict[str, Any] = {"StreamName": stream.name}
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode")
    if mode == "ON_DEMAND":
        args["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        args["ShardCount"] = props.get("ShardCount", 1)
    _call(client, "CreateStream", **args)
    client.get_waiter("stream_exists").wait(StreamName=stream.name, WaiterConfig={"Delay": 0.1})
    if "RetentionPeriodHours" in props:
        hours = int(props["RetentionPeriodHours"])
        if hours > 24:
            client.increase_stream_retention_period(StreamName=stream.name, RetentionPeriodHours=hours)


def _as_shape_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


_MAKERS: Mapping[str, Callable[[Clients, ResourceSpec], None]] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::S3::Bucket": _bucket,
    "AWS::Events::EventBus": _bus,
    "AWS::Events::Rule": _rule,
    "AWS::Kinesis::Stream": _stream,
}
SERVED = tuple(_MAKERS)
