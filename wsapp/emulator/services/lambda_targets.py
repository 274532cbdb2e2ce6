"""SNS subscriptions and EventBridge rule targets that name a Lambda function, handed to the emulator.

moto would give an SNS ``lambda`` subscription's message to its own Lambda (which runs functions in
Docker), and its EventBridge refuses a rule whose target is a function (NotImplementedError, so
``put_events`` itself fails). The embedded services run in this process, so both deliveries are
redirected to the receivers the running gateways connect: each gets what SNS or EventBridge hands the
Lambda service, and the Lambda service invokes the function asynchronously, as it does on AWS
[DG: "Invoking Lambda functions with Amazon SNS notifications"], [DG: "Using Lambda with EventBridge"].

What moto applies stays moto's: the subscription's ``FilterPolicy`` (and ``FilterPolicyScope``),
``MessageStructure: json`` (the ``lambda`` key), a rule's ``EventPattern``. A rule's other targets keep
going to moto's own delivery (SQS queues, log groups, buses); targets moto cannot deliver (Step
Functions, SNS, ...) are left out rather than failing the ``PutEvents`` (the walker warns of them).
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

# (source, function ARN as subscribed or targeted, payload) -> whether a gateway runs that function.
# "sns": {"subscription_arn", "notification"} (SNS's HTTP notification document, MessageAttributes in);
# "events": the event as the target's input (Input, InputPath, InputTransformer applied).
Receiver = Callable[[str, str, Any], bool]
MOTO_TARGETS = (("logs", "log-group"), ("events", ""), ("sqs", None), ("events", "event-bus"))

_receivers: list[Receiver] = []
_lock = threading.Lock()
_rule_lock = threading.Lock()
_installed = False


def connect(receiver: Receiver) -> Callable[[], None]:
    """Start handing deliveries to ``receiver``; returns the call that stops it. The newest receiver is
    asked first (two gateways in one process share moto's state, and so its subscriptions)."""
    global _installed
    with _lock:
        if not _installed:
            _install()
            _installed = True
        _receivers.insert(0, receiver)

    def disconnect() -> None:
        with _lock:
            if receiver in _receivers:
                _receivers.remove(receiver)

    return disconnect


def _deliver(source: str, arn: str, payload: Any) -> bool:
    with _lock:
        receivers = list(_receivers)
    return any(receiver(source, arn, payload) for receiver in receivers)


def _install() -> None:
    from moto.events import models as events
    from moto.sns import models as sns

    publish = sns.Subscription.publish
    publish_args = inspect.signature(publish)

    def lambda_publish(self: Any, *args: Any, **kwargs: Any) -> None:
        if self.protocol != "lambda":
            return publish(self, *args, **kwargs)
        call = publish_args.bind(self, *args, **kwargs)
        call.apply_defaults()
        given = call.arguments
        message, attributes = given["message"], given.get("message_attributes")
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(attributes, message):
            return None
        if given.get("message_structure") == "json":
            message = self._parse_message_structure(message, self.protocol)
        notification = self.get_post_data(message, given["message_id"], given.get("subject"), attributes)
        _deliver("sns", self.endpoint, {"subscription_arn": self.arn, "notification": notification})
        return None

    send_to_targets = events.Rule.send_to_targets

    def lambda_send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        functions = [t for t in self.targets if _service_of(t["Arn"])[0] == "lambda"]
        delivered = [t for t in self.targets if _moto_delivers(t["Arn"])]
        if delivered:
            with _rule_lock:  # moto's delivery reads self.targets: only those it can deliver
                saved, self.targets = self.targets, delivered
                try:
                    send_to_targets(self, original_event, transform_input)
                finally:
                    self.targets = saved
        for target in functions:
            event = target_input(target, original_event) if transform_input else lambda_event(original_event)
            _deliver("events", target["Arn"], event)

    sns.Subscription.publish = lambda_publish
    events.Rule.send_to_targets = lambda_send_to_targets


def _service_of(arn: str) -> tuple[str, str | None]:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", None
    resource = parts[5]
    kind = resource.split("/", 1)[0] if "/" in resource else ""
    return parts[2], kind


def _moto_delivers(arn: str) -> bool:
    """Whether moto's EventBridge delivers to a target of this ARN itself."""
    service, kind = _service_of(arn)
    return any(service == s and (k is None or kind == k) for s, k in MOTO_TARGETS)


def lambda_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: ``time`` in ISO 8601 UTC to the second, no
    ``ingestion-time`` (moto's bookkeeping)."""
    found = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = found.get("time")
    if isinstance(when, (int, float)):
        found["time"] = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return found


def target_input(target: Mapping[str, Any], event: Mapping[str, Any]) -> Any:
    """What a target receives [EventBridge API ``Target``]: ``Input`` (constant JSON) instead of the
    event, or the part ``InputPath`` selects, or ``InputTransformer``'s template filled in; else the event."""
    plain = lambda_event(event)
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        found = parse(target["InputPath"]).find(plain)
        return found[0].value if found else None
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        with_ingestion = {**plain, "ingestion-time": event.get("ingestion-time", plain.get("time"))}
        return EventTemplateParser.parse(
            transformer.get("InputTemplate"), transformer.get("InputPathsMap", {}), with_ingestion
        )
    return plain


def fire_rule(account: str, region: str, bus: str, rule: str, event: Mapping[str, Any]) -> bool:
    """Send ``event`` to ``rule``'s targets (a schedule's tick); False if the rule is gone."""
    from moto.events.models import events_backends

    found = events_backends[account][region].event_buses.get(bus)
    target = found.rules.get(rule) if found is not None else None
    if target is None:
        return False
    target.send_to_targets(dict(event))
    return True
