"""The only part of wsapp that calls AWS: upload the artifact, run a change set, stream events.

Every wait is bounded, and each outcome (created, updated, no changes, failed or rolled back) ends in
one clear line. ``say`` receives everything meant for the user, so the CLI decides where it goes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wsapp.deploy.plan import MASK, DeployPlan

Say = Callable[[str], None]
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 5})


class DeployFailed(Exception):
    """The stack did not reach the state asked for; the message says why."""


# What the CLI reports as one line, exit status 1: our own verdicts and the SDK's errors.
FAILURES = (DeployFailed, ClientError, BotoCoreError)


class NoCredentials(Exception):
    """No AWS credentials in the SDK's chain."""


@dataclass
class Aws:
    """The clients of one region and endpoint (``endpoint_url`` for MiniStack or LocalStack)."""

    region: str
    endpoint_url: str | None = None
    poll_seconds: float = 2.0
    timeout_seconds: float = 1800.0

    def __post_init__(self) -> None:
        session = boto3.session.Session(region_name=self.region)
        if session.get_credentials() is None:
            raise NoCredentials()
        self._session = session

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_url, config=_CONFIG)


def ensure_artifacts(aws: Aws, plan: DeployPlan, say: Say) -> str:
    """Upload each zip under its content hash, unless that key is there already; the bucket they are in."""
    s3 = aws.client("s3")
    bucket = plan.bucket
    if bucket is None:
        account = aws.client("sts").get_caller_identity()["Account"]
        bucket = f"wsapp-artifacts-{account}-{aws.region}"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"404", "NoSuchBucket"} or plan.bucket is not None:
            raise DeployFailed(f"bucket {bucket}: {exc.response['Error'].get('Message') or exc}") from None
        say(f"creating bucket {bucket}")
        where = {} if aws.region == "us-east-1" else {"LocationConstraint": aws.region}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
    for key, artifact in sorted(plan.artifacts.items()):
        try:
            s3.head_object(Bucket=bucket, Key=key)
            say(f"artifact s3://{bucket}/{key} already uploaded")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
                raise
            s3.put_object(Bucket=bucket, Key=key, Body=artifact.data)
            say(f"uploaded s3://{bucket}/{key} ({len(artifact.data)} bytes)")
    return bucket


def stack_status(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def _parameters(plan: DeployPlan, existing: dict[str, Any] | None) -> list[dict[str, Any]]:
    given = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(plan.parameters.items())]
    if existing is None:
        return given
    # Parameters not given keep the stack's values (a NoEcho secret cannot be read back anyway).
    kept = {p["ParameterKey"] for p in existing.get("Parameters", [])} - set(plan.parameters)
    return given + [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(kept)]


def _wait_change_set(aws: Aws, cfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + min(aws.timeout_seconds, 600)
    while time.monotonic() < deadline:
        change_set = cfn.describe_change_set(ChangeSetName=arn)
        if change_set["Status"] in {"CREATE_COMPLETE", "FAILED"}:
            return change_set
        time.sleep(aws.poll_seconds)
    raise DeployFailed("the change set was not ready in time")


def show_change_set(change_set: dict[str, Any], plan: DeployPlan, say: Say) -> None:
    say(f"change set {change_set['ChangeSetName']}:")
    for change in change_set.get("Changes", []):
        rc = change.get("ResourceChange", {})
        replace = " (replacement)" if rc.get("Replacement") == "True" else ""
        action, logical_id = rc.get("Action", "?"), rc.get("LogicalResourceId", "?")
        say(f"  {action:<8} {logical_id:<34} {rc.get('ResourceType', '')}{replace}")
    for p in change_set.get("Parameters", []):
        value = MASK if p["ParameterKey"] in plan.no_echo else p.get("ParameterValue", "")
        say(f"  parameter {p['ParameterKey']} = {value}")


def event_ids(cfn: Any, name: str) -> set[str]:
    """The ids of the stack's latest events (its first page, newest first), or none if it has none.

    Taken just before an operation starts, they are what :func:`stream_events` must not show again:
    the one-second slack for clock skew would otherwise let the end of a previous operation (a create
    right before a delete, on a fast emulator) into this one's events.
    """
    try:
        return {e["EventId"] for e in cfn.describe_stack_events(StackName=name)["StackEvents"]}
    except ClientError as exc:
        if "does not exist" in str(exc):
            return set()
        raise


def stream_events(
    aws: Aws, cfn: Any, name: str, since: float, say: Say, *, shown: set[str] | None = None
) -> str:
    """Print the stack's new events as they come (none in ``shown``); return the status it settles in."""
    seen: set[str] = set(shown or ())
    deadline = time.monotonic() + aws.timeout_seconds
    while True:
        events = []
        try:
            for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
                fresh = [e for e in page["StackEvents"] if e["EventId"] not in seen]
                events += [e for e in fresh if e["Timestamp"].timestamp() >= since - 1]
                if len(fresh) < len(page["StackEvents"]):
                    break  # newest first: the rest of the pages were shown already
        except ClientError as exc:
            if "does not exist" in str(exc):
                return "DELETE_COMPLETE"
            raise
        for event in reversed(events):
            seen.add(event["EventId"])
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            stamp = event["Timestamp"].strftime("%H:%M:%S")
            say(
                f"{stamp} {event['ResourceStatus']:<28} {event['LogicalResourceId']:<34} "
                f"{event.get('ResourceType', '')}{reason}"
            )
        stack = stack_status(cfn, name)
        if stack is None:
            return "DELETE_COMPLETE"
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack["StackStatus"]
        if time.monotonic() > deadline:
            raise DeployFailed(f"{name} still {stack['StackStatus']} after {aws.timeout_seconds:.0f} s")
        time.sleep(aws.poll_seconds)


def deploy(aws: Aws, plan: DeployPlan, say: Say) -> dict[str, str]:
    """Create or update the stack; its outputs, or :class:`DeployFailed`."""
    cfn = aws.client("cloudformation")
    existing = stack_status(cfn, plan.stack_name)
    status = existing["StackStatus"] if existing else None
    if status == "ROLLBACK_COMPLETE":
        raise DeployFailed(
            f"{plan.stack_name} failed to create and was rolled back; run "
            f"`wsapp destroy --stack-name {plan.stack_name}` first"
        )
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployFailed(f"{plan.stack_name} is busy ({status}); try again when it settles")
    creating = existing is None or status == "REVIEW_IN_PROGRESS"
    missing = [
        k
        for k, v in plan.template.get("Parameters", {}).items()
        if creating and "Default" not in v and k not in plan.parameters
    ]
    if missing:
        raise DeployFailed(f"creating {plan.stack_name} needs --parameter {missing[0]}=...")
    bucket = ensure_artifacts(aws, plan, say)
    change_set = cfn.create_change_set(
        StackName=plan.stack_name,
        # Unique even for two deploys within a second (a no-op update right after a create).
        ChangeSetName=f"wsapp-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}",
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateBody=plan.template_body(bucket),
        Parameters=_parameters(plan, None if creating else existing),
        Capabilities=CAPABILITIES,
    )
    described = _wait_change_set(aws, cfn, change_set["Id"])
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cfn.delete_change_set(ChangeSetName=change_set["Id"])
            say(f"no changes: {plan.stack_name} is up to date")
            return outputs(aws, plan.stack_name)
        raise DeployFailed(f"change set failed: {reason}")
    show_change_set(described, plan, say)
    before, since = event_ids(cfn, plan.stack_name), time.time()
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    final = stream_events(aws, cfn, plan.stack_name, since, say, shown=before)
    if final not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        raise DeployFailed(
            f"{plan.stack_name} ended in {final}: {_first_failure(cfn, plan.stack_name, since)}"
        )
    say(f"{'created' if creating else 'updated'} {plan.stack_name}")
    return outputs(aws, plan.stack_name)


def _first_failure(cfn: Any, name: str, since: float) -> str:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [
        e
        for e in reversed(events)
        if e["ResourceStatus"].endswith("_FAILED") and e["Timestamp"].timestamp() >= since - 1
    ]
    if not failed:
        return "see the events above"
    return f"{failed[0]['LogicalResourceId']}: {failed[0].get('ResourceStatusReason', 'no reason given')}"


def outputs(aws: Aws, name: str) -> dict[str, str]:
    stack = stack_status(aws.client("cloudformation"), name)
    if stack is None:
        raise DeployFailed(f"no stack named {name} in {aws.region}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def destroy(aws: Aws, name: str, say: Say) -> None:
    cfn = aws.client("cloudformation")
    if stack_status(cfn, name) is None:
        say(f"no stack named {name} in {aws.region}: nothing to delete")
        return
    before, since = event_ids(cfn, name), time.time()
    cfn.delete_stack(StackName=name)
    final = stream_events(aws, cfn, name, since, say, shown=before)
    if final != "DELETE_COMPLETE":
        raise DeployFailed(f"{name} ended in {final}: {_first_failure(cfn, name, since)}")
    say(f"deleted {name}")
