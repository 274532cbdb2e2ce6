"""The template's other resources exist in the embedded services, and every SDK call stays local.

moto's state belongs to the process: the names here are this test's own.
"""

from __future__ import annotations

# ruff: noqa: E501 - the template is text, kept on readable lines
import json

import boto3
import pytest
import websocket
from emukit import HEADER, function, integration, route

from wsapp.emulator import LocalGateway
from wsapp.emulator.errors import EmulatorError

RESOURCES = """\
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: services-test-queue, VisibilityTimeout: 45}
  Topic:
    Type: AWS::SNS::Topic
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "${AWS::StackName}-uploads"}
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: chat-events}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: services_app.handler
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          TOPIC_ARN: !Ref Topic
          BUCKET: !Ref Bucket
          BUS: !Ref Bus
"""

HANDLER = '''\
import json
import os

import boto3


def handler(event, context):
    if event["requestContext"]["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    sqs, sns, s3 = boto3.client("sqs"), boto3.client("sns"), boto3.client("s3")
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="hello queue")
    message_id = sns.publish(TopicArn=os.environ["TOPIC_ARN"], Message="hello topic")["MessageId"]
    s3.put_object(Bucket=os.environ["BUCKET"], Key="hello.txt", Body=b"hello bucket")
    failed = boto3.client("events").put_events(
        Entries=[{"EventBusName": os.environ["BUS"], "Source": "chat", "DetailType": "hello", "Detail": "{}"}]
    )["FailedEntryCount"]
    account = boto3.client("sts").get_caller_identity()["Account"]
    return {"statusCode": 200, "body": json.dumps({"sns": bool(message_id), "events_failed": failed, "account": account})}
'''


@pytest.fixture(scope="module", params=["process", "thread"])
def gateway(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("services")
    (folder / "services_app.py").write_text(HANDLER)
    (folder / "template.yaml").write_text(
        HEADER + RESOURCES + integration("I", "Fn") + route("D", "$default", "I", two_way=True)
    )
    with LocalGateway(folder / "template.yaml", isolation=request.param) as gw:
        yield gw


def test_functions_use_the_templates_queue_topic_bucket_and_bus_locally(gateway):
    ws = websocket.create_connection(gateway.url, timeout=20)
    try:
        ws.send("go")
        answer = json.loads(ws.recv())
    finally:
        ws.close()
    assert answer == {"sns": True, "events_failed": 0, "account": "123456789012"}
    clients = {
        name: boto3.client(
            name, endpoint_url=gateway.dynamodb.endpoint, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )
        for name in ("sqs", "s3")
    }  # fmt: skip
    queue_url = clients["sqs"].get_queue_url(QueueName="services-test-queue")["QueueUrl"]
    attributes = clients["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    received = clients["sqs"].receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in received] == ["hello queue"]
    body = clients["s3"].get_object(Bucket="wsapp-local-uploads", Key="hello.txt")["Body"].read()
    assert body == b"hello bucket"


NUMBER_PARAMETERS = """\
Parameters:
  Capacity: {Type: Number, Default: 5}
"""
PROVISIONED_TABLE = """\
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: provisioned-by-parameter
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: !Ref Capacity, WriteCapacityUnits: !Ref Capacity}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: "true"}
"""


def _numbers_template(folder):
    (folder / "services_numbers.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    header = HEADER.replace("Resources:\n", NUMBER_PARAMETERS + "Resources:\n")
    body = PROVISIONED_TABLE + function("Fn", "services_numbers.handler")
    path = folder / "template.yaml"
    path.write_text(header + body + integration("I", "Fn") + route("D", "$default", "I"))
    return path


def test_number_parameters_reach_the_table_as_numbers(tmp_path):
    """CloudFormation hands a ``Type: Number`` parameter over as text and converts it to the property's
    type; so does the emulator (botocore alone refuses ``ReadCapacityUnits: "5"``)."""
    with LocalGateway(_numbers_template(tmp_path), parameters={"Capacity": "7"}) as gw:
        client = boto3.client(
            "dynamodb", endpoint_url=gw.dynamodb.endpoint, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        table = client.describe_table(TableName="provisioned-by-parameter")["Table"]
        ttl = client.describe_time_to_live(TableName="provisioned-by-parameter")["TimeToLiveDescription"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert ttl["AttributeName"] == "expiresAt" and ttl["TimeToLiveStatus"] == "ENABLED"


def test_a_value_the_service_refuses_is_one_line_naming_the_resource(tmp_path):
    template = _numbers_template(tmp_path)
    text = template.read_text().replace("TableName: provisioned-by-parameter", "TableName: p2")
    template.write_text(text.replace("ReadCapacityUnits: !Ref Capacity", "ReadCapacityUnits: lots"))
    with pytest.raises(EmulatorError) as failure:
        LocalGateway(template).start()
    message = str(failure.value)
    assert message.startswith("Table: cannot create it locally: Parameter validation failed:")
    assert "ReadCapacityUnits" in message and "\n" not in message
