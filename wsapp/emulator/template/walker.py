"""Walk a translated template: API → Route → Integration → Function, with intrinsics resolved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsapp.emulator.errors import TemplateError
from wsapp.emulator.template import eventbridge, functions, integrations
from wsapp.emulator.template.code import LOCAL_BUCKET
from wsapp.emulator.template.intrinsics import NO_VALUE, Resolver
from wsapp.emulator.template.model import (
    Account,
    AuthorizerSpec,
    EventSourceSpec,
    FunctionSpec,
    LayerSpec,
    ResourceSpec,
    RouteSpec,
    ScheduleSpec,
    TableSpec,
    WebSocketApp,
)
from wsapp.emulator.template.parameters import typed
from wsapp.emulator.template.resources import NAME_PROPERTY, attribute, physical_name, ref_value

DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000  # API Gateway's default (and maximum) integration timeout
FUNCTION = "AWS::Lambda::Function"
MAX_LAYERS = 5  # "Cannot reference more than 5 layers." [DG23:invocation-layers.md, reference §4]
_FUNCTION_ARN_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")
# The properties the emulator reads, per kind (others are never resolved, so never in its way).
READ = {
    "AWS::ApiGatewayV2::Stage": ("ApiId", "StageName", "StageVariables"),
    "AWS::ApiGatewayV2::Authorizer": ("ApiId", "AuthorizerType", "Name", "AuthorizerUri", "IdentitySource"),
    "AWS::ApiGatewayV2::Integration": integrations.INTEGRATION_KEYS,
    "AWS::ApiGatewayV2::IntegrationResponse": integrations.RESPONSE_KEYS,
    "AWS::ApiGatewayV2::Route": (
        "ApiId",
        "RouteKey",
        "Target",
        "AuthorizationType",
        "AuthorizerId",
        "RouteResponseSelectionExpression",
        "ModelSelectionExpression",
        "RequestModels",
    ),
    "AWS::ApiGatewayV2::RouteResponse": ("ApiId", "RouteId", "RouteResponseKey"),
    "AWS::ApiGatewayV2::Model": ("ApiId", "Name", "Schema"),
}
# Other resources the embedded services create, and the properties they are created with.
OTHER = {
    "AWS::SQS::Queue": (
        "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
        "FifoThroughputLimit", "RedrivePolicy",
    ),
    "AWS::SNS::Topic": ("FifoTopic", "ContentBasedDeduplication", "Subscription"),
    "AWS::SNS::Subscription": (
        "TopicArn", "Protocol", "Endpoint", "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope",
    ),
    "AWS::S3::Bucket": (),
    "AWS::Events::EventBus": (),
    "AWS::Kinesis::Stream": ("ShardCount", "StreamModeDetails", "RetentionPeriodHours"),
}  # fmt: skip
TABLE_KEYS = (
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "TableClass",
    "TimeToLiveSpecification",
)


@dataclass(frozen=True)
class LocalLayer:
    """A layer version's local content, as the loader found it before translation."""

    logical_id: str  # as the template names it (SAM's translation appends a hash)
    content: Path
    build_method: str | None


class Walker:
    """Follows API → Route → Integration → Function in a translated template."""

    def __init__(
        self,
        cfn: Mapping[str, Any],
        parameters: Mapping[str, str],
        account: Account,
        code_roots: Mapping[str, Path],
        ids: Callable[[], str] | None,
        local_layers: Mapping[str, LocalLayer] | None = None,
    ) -> None:
        self.resources: Mapping[str, Any] = cfn["Resources"]
        self.account = account
        self.code_roots = code_roots
        self.local_layers = local_layers or {}  # placeholder S3 key → content
        self.parameters = parameters
        self._ids = ids or _counter_ids()
        self.pseudo: dict[str, Any] = {
            "AWS::Region": account.region,
            "AWS::AccountId": account.account_id,
            "AWS::Partition": account.partition,
            "AWS::StackName": account.stack_name,
            "AWS::StackId": f"arn:{account.partition}:cloudformation:{account.region}:{account.account_id}:"
            f"stack/{account.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.mappings: Mapping[str, Any] = cfn.get("Mappings") or {}
        self.typed_parameters = typed(cfn.get("Parameters") or {}, parameters)  # lists for the list types
        self.physical = self._physical_ids(cfn.get("Conditions"))
        self.qualifiers = self._qualifier_ids(cfn.get("Conditions"))  # Version/Alias → its function
        refs: dict[str, Any] = {
            **self.typed_parameters,
            **{n: self._ref(n, self.physical[n]) for n in self.resources},
            **self.pseudo,
        }
        self.resolver = Resolver(refs, self._get_att, cfn.get("Conditions"), self.mappings)
        self.functions: dict[str, FunctionSpec] = {}
        self._layers: dict[str, LayerSpec] | None = None

    def _physical_ids(self, conditions: Mapping[str, Any] | None) -> dict[str, str]:
        """Each resource's physical id. A name set with an intrinsic (``!Ref TableName``, ``!Sub``) is
        resolved, in as many passes as names that depend on other names need."""
        names: dict[str, Any] = {}
        for logical, resource in self.resources.items():
            prop = NAME_PROPERTY.get(resource.get("Type", ""))
            names[logical] = (resource.get("Properties") or {}).get(prop) if prop else None
        physical: dict[str, str] = {}
        pending = {n for n, v in names.items() if isinstance(v, dict)}
        for _ in range(4):
            known = {**self.typed_parameters, **self.pseudo}
            known |= {
                n: ref_value(self.resources[n].get("Type", ""), p, self.account) for n, p in physical.items()
            }
            resolver = Resolver(known, self._unknown_att, conditions, self.mappings)
            for logical in sorted(pending):
                try:
                    physical[logical] = str(resolver.resolve(names[logical], logical))
                except TemplateError:
                    continue
            pending -= set(physical)
            if not pending:
                break
        for logical, resource in self.resources.items():
            if logical not in physical:
                kind = resource.get("Type", "")
                physical[logical] = physical_name(kind, logical, names[logical], self.account, self._ids)
        return physical

    def _qualifier_ids(self, conditions: Mapping[str, Any] | None) -> dict[str, str]:
        """Versions' and aliases' physical ids are ARNs of their function's (so ``Ref`` is that ARN)."""
        names = {f: self.physical[f] for f in self._of_type(FUNCTION)}
        arns = {f: str(attribute(FUNCTION, n, "Arn", self.account, {})) for f, n in names.items()}
        known = {
            **self.typed_parameters,
            **self.pseudo,
            **{n: self._ref(n, p) for n, p in self.physical.items()},
        }

        def arn_of(logical: str, attr: str, where: str) -> Any:
            return (
                arns[logical]
                if logical in arns and attr == "Arn"
                else self._unknown_att(logical, attr, where)
            )

        resolver = Resolver(known, arn_of, conditions, self.mappings)
        active = {
            n: r
            for n, r in self.resources.items()
            if "Condition" not in r or resolver.condition(r["Condition"], n)
        }
        found = functions.qualifier_arns(active, names, arns, resolver.resolve)
        for logical, (_, qualified) in found.items():
            self.physical[logical] = qualified
        return {logical: function for logical, (function, _) in found.items()}

    def _ref(self, logical: str, physical: str) -> str:
        return ref_value(self.resources[logical].get("Type", ""), physical, self.account)

    @staticmethod
    def _unknown_att(logical: str, attr: str, where: str) -> Any:
        raise TemplateError(f"Fn::GetAtt {logical}.{attr} in a name is not supported locally", where)

    def _get_att(self, logical: str, attr: str, where: str = "") -> Any:
        if logical not in self.resources:
            raise TemplateError(f"Fn::GetAtt names unknown resource {logical!r}", where or None)
        resource = self.resources[logical]
        value = attribute(
            resource["Type"], self.physical[logical], attr, self.account, resource.get("Properties") or {}
        )
        if value is None:
            raise TemplateError(f"Fn::GetAtt {logical}.{attr} is not supported locally", where or None)
        return value

    def _props(self, logical: str, *keys: str) -> dict[str, Any]:
        """The resource's properties, intrinsics resolved: only ``keys`` when given (an attribute the
        emulator cannot give, in a property it never reads, is no reason to refuse the template)."""
        resource = self.resources[logical]
        if "Condition" in resource and not self.resolver.condition(resource["Condition"], logical):
            return {}
        props = resource.get("Properties") or {}
        if keys:
            props = {k: props[k] for k in keys if k in props}
        return self.resolver.resolve(props, logical)

    def _of_type(self, kind: str) -> list[str]:
        return [name for name, r in self.resources.items() if r.get("Type") == kind]

    def _active(self, logical: str) -> bool:
        resource = self.resources[logical]
        return "Condition" not in resource or self.resolver.condition(resource["Condition"], logical)

    def app(self, api: str | None) -> WebSocketApp:
        apis = [
            n
            for n in self._of_type("AWS::ApiGatewayV2::Api")
            if self._props(n, "ProtocolType").get("ProtocolType") == "WEBSOCKET"
        ]
        if api is not None:
            if api not in apis:
                raise TemplateError(f"no WebSocket API named {api!r} (found {apis or 'none'})")
            apis = [api]
        if not apis:
            raise TemplateError("the template declares no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET")
        if len(apis) > 1:
            raise TemplateError(f"the template declares several WebSocket APIs {apis}; choose one with --api")
        api_logical = apis[0]
        api_props = self._props(api_logical, "RouteSelectionExpression")
        api_id = self.physical[api_logical]
        stage, stage_variables = self._stage(api_id, api_logical)
        authorizers = self._authorizers(api_id)
        routes = self._routes(api_id, authorizers)
        for logical in self._of_type(FUNCTION):
            # Every function, not only those API Gateway calls: others reach them through the Lambda API.
            # One without local code (a plain AWS::Lambda::Function) cannot run; that is an error only
            # when a route calls it.
            if logical not in self.functions and logical in self.code_roots and self._active(logical):
                self._function(logical)
        event_sources, not_run = self._triggers()
        rules, schedules, rule_lines = self._rules()
        return WebSocketApp(
            api_logical_id=api_logical,
            api_id=api_id,
            stage=stage,
            selection_expression=api_props.get("RouteSelectionExpression", "$request.body.action"),
            routes=routes,
            functions=dict(self.functions),
            tables=tuple(
                TableSpec(n, self.physical[n], self._props(n, *TABLE_KEYS))
                for n in self._of_type("AWS::DynamoDB::Table")
            ),
            account=self.account,
            parameters=self.parameters,
            stage_variables=stage_variables,
            resources=(
                *(
                    ResourceSpec(n, kind, self.physical[n], self._props(n, *OTHER[kind]))
                    for kind in OTHER
                    for n in self._of_type(kind)
                ),
                *rules,  # after the buses they are on
            ),
            not_run=(*not_run, *rule_lines),
            event_sources=event_sources,
            schedules=schedules,
        )

    def _triggers(self) -> tuple[tuple[EventSourceSpec, ...], tuple[str, ...]]:
        """The event sources the Lambda service polls (DynamoDB and Kinesis streams, SQS queues), and a line
        for each trigger nothing runs locally yet (its function still exists and can be invoked)."""
        sources, lines = [], []
        by_name = {spec.name: logical for logical, spec in self.functions.items()}
        for name in self._of_type("AWS::Lambda::EventSourceMapping"):
            keys = ("EventSourceArn", "FunctionName", "BatchSize", "StartingPosition", "Enabled")
            try:
                props = self._props(name, *keys, "MaximumRetryAttempts", "StartingPositionTimestamp")
            except TemplateError:
                props = {}  # named through something the emulator cannot resolve: said generically below
            arn = str(props.get("EventSourceArn", ""))
            source = _runnable_source(arn)
            if source is None:
                kinds = ("dynamodb", "sqs", "kinesis", "kafka", "mq", "docdb")
                kind = next((f"{k} " for k in kinds if f":{k}:" in arn), "")
                lines.append(f"{name}: the {kind}event source mapping does not run locally yet")
                continue
            function = by_name.get(functions.function_name_of(props.get("FunctionName", "")))
            if function is None:
                continue  # another stack's function: nothing the emulator runs
            kind, resource = source
            retries = props.get("MaximumRetryAttempts")
            timestamp = props.get("StartingPositionTimestamp")
            sources.append(
                EventSourceSpec(
                    name,
                    function,
                    arn,
                    kind,
                    resource,
                    batch_size=int(props.get("BatchSize", 10 if kind == "sqs" else 100)),
                    starting_position=str(props.get("StartingPosition", "LATEST")),
                    starting_timestamp=None if timestamp is None else float(timestamp),
                    identity_arn=self._role_of(function),
                    max_retries=None if retries is None or int(retries) < 0 else int(retries),
                    enabled=str(props.get("Enabled", True)).lower() != "false",
                )
            )
        ours = self._function_arns()
        for name in self._of_type("AWS::SNS::Subscription"):
            props = self.resources[name].get("Properties") or {}
            if str(props.get("Protocol", "")).lower() == "lambda":
                try:
                    endpoint = str(self._props(name, "Endpoint").get("Endpoint", ""))
                except TemplateError:
                    endpoint = ""
                if not _names_one_of(endpoint, ours):
                    lines.append(f"{name}: Endpoint is not a function of this template; not invoked locally")
        for name in self._of_type("AWS::Scheduler::Schedule"):
            lines.append(f"{name}: AWS::Scheduler::Schedule targets are not triggered locally yet")
        for name in self._of_type("AWS::StepFunctions::StateMachine"):
            lines.append(f"{name}: Step Functions workflows are not run locally yet (executions never start)")
        return tuple(sources), tuple(lines)

    def _function_arns(self) -> list[str]:
        return [self._get_att(f, "Arn") for f in self._of_type(FUNCTION)]

    def _rules(self) -> tuple[list[ResourceSpec], tuple[ScheduleSpec, ...], list[str]]:
        """EventBridge rules as the embedded EventBridge gets them: each target resolved on its own (one
        naming what the emulator cannot resolve is left out, not a reason to refuse the template), and a
        line for each target or schedule nothing delivers locally."""
        specs, schedules, lines = [], [], []
        ours = self._function_arns()
        for name in self._of_type("AWS::Events::Rule"):
            if not self._active(name):
                continue
            keys = ("Name", "EventBusName", "EventPattern", "ScheduleExpression", "State", "Description")
            props = self._props(name, *keys)
            targets = []
            for n, target in enumerate((self.resources[name].get("Properties") or {}).get("Targets") or ()):
                label = target.get("Id", n) if isinstance(target, dict) else n
                try:
                    resolved = self.resolver.resolve(target, name)
                except TemplateError:
                    lines.append(f"{name}: target {label} cannot be resolved locally; it is not delivered")
                    continue
                arn = str(resolved.get("Arn", ""))
                service = eventbridge.target_service(arn)
                if service == "lambda" and not _names_one_of(arn, ours):
                    lines.append(f"{name}: target {label} is not a function of this template; not invoked")
                elif service not in eventbridge.DELIVERED:
                    lines.append(f"{name}: target {label} ({service or arn}) is not delivered locally")
                targets.append(resolved)
            expression = str(props.get("ScheduleExpression", ""))
            period = eventbridge.rate_seconds(expression) if expression else None
            if expression and period is None:
                lines.append(f"{name}: ScheduleExpression {expression} is not triggered locally (rate() is)")
            if period is not None and str(props.get("State", "ENABLED")) == "ENABLED":
                schedules.append(ScheduleSpec(name, self.physical[name], period))
            specs.append(
                ResourceSpec(name, "AWS::Events::Rule", self.physical[name], {**props, "Targets": targets})
            )
        return specs, tuple(schedules), lines

    def _role_of(self, function: str) -> str:
        """The function's execution role ARN (SAM makes ``{Function}Role``), or "" if it has none."""
        try:
            role = self._props(function, "Role").get("Role", "")
        except TemplateError:
            return ""
        return role if isinstance(role, str) else ""

    def _for_api(self, kind: str, api_id: str) -> list[tuple[str, dict[str, Any]]]:
        found = [(n, self._props(n, *READ[kind])) for n in self._of_type(kind)]
        return [(n, p) for n, p in found if p.get("ApiId") == api_id]

    def _stage(self, api_id: str, api_logical: str) -> tuple[str, dict[str, str]]:
        stages = self._for_api("AWS::ApiGatewayV2::Stage", api_id)
        if not stages:
            raise TemplateError("the WebSocket API has no AWS::ApiGatewayV2::Stage", api_logical)
        name, props = stages[0]
        stage = str(props.get("StageName", ""))
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", stage):
            raise TemplateError(f"invalid StageName {stage!r}", name)
        return stage, {k: str(v) for k, v in (props.get("StageVariables") or {}).items()}

    def _function_for_uri(self, uri: Any, where: str) -> FunctionSpec:
        match = _FUNCTION_ARN_IN_URI.search(str(uri))
        if not match:
            raise TemplateError(f"integration URI {uri!r} does not name a Lambda function", where)
        arn = match.group(1)
        for logical in self._of_type(FUNCTION):
            own = self._get_att(logical, "Arn")
            if arn == own or arn.startswith(own + ":"):  # a version or alias qualifier
                return self._function(logical)
        raise TemplateError(f"integration calls {arn}, which is not a function of this template", where)

    def _function(self, logical: str) -> FunctionSpec:
        if logical in self.functions:
            return self.functions[logical]
        mine = [q for q, function in self.qualifiers.items() if function == logical]
        qualifier = {q: self.physical[q].rsplit(":", 1)[1] for q in mine}
        versions = tuple(qualifier[q] for q in mine if self.resources[q]["Type"] == functions.VERSION)
        aliases = {
            qualifier[q]: str(self._props(q, "FunctionVersion").get("FunctionVersion", "$LATEST"))
            for q in mine
            if self.resources[q]["Type"] == functions.ALIAS
        }
        configs = {}
        for config in self._of_type(functions.EVENT_INVOKE_CONFIG):
            keys = ("FunctionName", "Qualifier", "MaximumRetryAttempts", "MaximumEventAgeInSeconds")
            props = self._props(config, *keys)
            if props and functions.function_name_of(props.get("FunctionName")) == self.physical[logical]:
                key, value = functions.async_config(props, config)
                configs[key] = value
        props = self._props(logical, *functions.READ)
        props_layers = props.get("Layers")
        spec = functions.build(
            logical,
            props,
            name=self.physical[logical],
            arn=self._get_att(logical, "Arn"),
            code_root=self.code_roots.get(logical),
            layers=self._function_layers(props_layers, logical),
            versions=versions,
            aliases=aliases,
            async_configs=configs,
        )
        self.functions[logical] = spec
        return spec

    def _function_layers(self, listed: Any, logical: str) -> tuple[LayerSpec, ...]:
        """``Layers`` (ARNs, ``Ref`` of a layer version giving its ARN), in order."""
        if listed is None or listed is NO_VALUE:
            return ()
        if isinstance(listed, list):
            listed = [arn for arn in listed if arn is not NO_VALUE]  # !If [..., !Ref AWS::NoValue]
        if not isinstance(listed, list) or not all(isinstance(arn, str) for arn in listed):
            raise TemplateError("Layers must be a list of layer version ARNs", logical)
        if len(listed) > MAX_LAYERS:
            raise TemplateError("Layers: Cannot reference more than 5 layers.", logical)
        known = self._template_layers()
        return tuple(known.get(arn) or LayerSpec(arn) for arn in listed)

    def _template_layers(self) -> dict[str, LayerSpec]:
        """The template's own layer versions by ARN (what their ``Ref`` gives)."""
        if self._layers is None:
            self._layers = {}
            for logical in self._of_type("AWS::Lambda::LayerVersion"):
                arn = self._ref(logical, self.physical[logical])
                content = (self.resources[logical].get("Properties") or {}).get("Content")
                local = None
                if isinstance(content, dict) and content.get("S3Bucket") == LOCAL_BUCKET:
                    local = self.local_layers.get(str(content.get("S3Key")))
                if local is None:  # its content is on S3: as unreachable offline as a public layer
                    self._layers[arn] = LayerSpec(arn, logical)
                else:
                    self._layers[arn] = LayerSpec(arn, local.logical_id, local.content, local.build_method)
        return self._layers

    def _authorizers(self, api_id: str) -> dict[str, AuthorizerSpec]:
        found: dict[str, AuthorizerSpec] = {}
        for name, props in self._for_api("AWS::ApiGatewayV2::Authorizer", api_id):
            if props.get("AuthorizerType") != "REQUEST":
                raise TemplateError("WebSocket APIs support only REQUEST authorizers", name)
            found[self.physical[name]] = AuthorizerSpec(
                logical_id=name,
                authorizer_id=self.physical[name],
                name=str(props.get("Name", name)),
                function=self._function_for_uri(props.get("AuthorizerUri"), name),
                identity_sources=tuple(props.get("IdentitySource") or ()),
            )
        return found

    def _routes(self, api_id: str, authorizers: Mapping[str, AuthorizerSpec]) -> dict[str, RouteSpec]:
        declared = dict(self._for_api("AWS::ApiGatewayV2::Integration", api_id))
        by_id = {self.physical[n]: (n, p) for n, p in declared.items()}
        responses = {
            p.get("RouteId"): p for _, p in self._for_api("AWS::ApiGatewayV2::RouteResponse", api_id)
        }
        integration_responses: dict[str, list[dict[str, Any]]] = {}
        for _, p in self._for_api("AWS::ApiGatewayV2::IntegrationResponse", api_id):
            integration_responses.setdefault(str(p.get("IntegrationId")), []).append(p)
        models = {
            str(p.get("Name")): p.get("Schema") for _, p in self._for_api("AWS::ApiGatewayV2::Model", api_id)
        }
        routes: dict[str, RouteSpec] = {}
        for name, props in self._for_api("AWS::ApiGatewayV2::Route", api_id):
            key = props.get("RouteKey")
            if not isinstance(key, str) or not key:
                raise TemplateError("route has no RouteKey", name)
            if key.startswith("$") and key not in ("$connect", "$disconnect", "$default"):
                raise TemplateError(f"route key {key!r}: keys starting with $ are reserved", name)
            function, integration, timeout = None, None, DEFAULT_INTEGRATION_TIMEOUT_MS
            target = props.get("Target")
            if target is not None:
                integration_id = str(target).removeprefix("integrations/")
                if integration_id not in by_id:
                    raise TemplateError(f"Target {target!r} is not an integration of this API", name)
                integration_name, props_of = by_id[integration_id]
                function, integration = integrations.build(
                    integration_name,
                    props_of,
                    integration_responses.get(integration_id, []),
                    self._function_for_uri,
                )
                timeout = int(props_of.get("TimeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT_MS))
            authorizer = None
            if props.get("AuthorizationType") == "AWS_IAM":
                # Letting every handshake through would pass a test that fails on AWS: refused instead.
                raise TemplateError(
                    "AuthorizationType AWS_IAM is not supported locally (SigV4-signed handshakes are not"
                    " checked); use NONE or a CUSTOM authorizer to run it here",
                    name,
                )
            if props.get("AuthorizationType") == "CUSTOM":
                authorizer = authorizers.get(props.get("AuthorizerId"))
                if authorizer is None:
                    raise TemplateError("AuthorizationType CUSTOM without a known AuthorizerId", name)
                if key != "$connect":
                    raise TemplateError("only the $connect route can have an authorizer", name)
            # Two-way: a RouteResponseSelectionExpression and a $default RouteResponse (reference §3.1).
            response = responses.get(self.physical[name])
            has_response = bool(response and response.get("RouteResponseKey") == "$default")
            selects = bool(props.get("RouteResponseSelectionExpression"))
            routes[key] = RouteSpec(
                key,
                function,
                authorizer,
                selects and has_response,
                timeout / 1000,
                integration,
                model_selection=props.get("ModelSelectionExpression"),
                models=_request_models(props.get("RequestModels"), models, name),
                route_response_only=has_response and not selects,
            )
        return routes


def _request_models(listed: Any, models: Mapping[str, Any], route: str) -> dict[str, Mapping[str, Any]]:
    """A route's RequestModels (selection key -> model name) with each model's schema."""
    if not listed:
        return {}
    if not isinstance(listed, Mapping):
        raise TemplateError("RequestModels must map selection keys to model names", route)
    found: dict[str, Mapping[str, Any]] = {}
    for key, model in listed.items():
        schema = models.get(str(model))
        if isinstance(schema, str):  # Schema may be given as a JSON string
            try:
                schema = json.loads(schema)
            except ValueError:
                raise TemplateError(f"model {model!r}: Schema is not JSON", route) from None
        if not isinstance(schema, Mapping):
            raise TemplateError(
                f"RequestModels: {model!r} is not an AWS::ApiGatewayV2::Model of this API", route
            )
        found[str(key)] = schema
    return found


def _names_one_of(arn: str, functions: list[str]) -> bool:
    """Whether ``arn`` is one of ``functions``' ARNs, or a version or alias of one."""
    return any(arn == own or arn.startswith(own + ":") for own in functions)


def _counter_ids() -> Callable[[], str]:
    """Deterministic 10-character lowercase physical ids (API Gateway's id format)."""
    count = iter(range(1, 10**9))
    return lambda: f"{next(count):010d}".replace("0", "a")


def _runnable_source(arn: str) -> tuple[str, str] | None:
    """("dynamodb", table) for a stream ARN (``arn:aws:dynamodb:r:a:table/NAME/stream/LABEL``), ("sqs",
    queue name) for a queue ARN (``arn:aws:sqs:r:a:NAME``), ("kinesis", stream name) for a Kinesis
    stream's (``arn:aws:kinesis:r:a:stream/NAME``), else None."""
    if ":dynamodb:" in arn and ":table/" in arn and "/stream/" in arn:
        return "dynamodb", arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    if arn.startswith("arn:") and arn.split(":")[2:3] == ["sqs"] and len(arn.split(":")) == 6:
        return "sqs", arn.split(":")[5]
    if arn.startswith("arn:") and arn.split(":")[2:3] == ["kinesis"] and ":stream/" in arn:
        return "kinesis", arn.split(":stream/", 1)[1]
    return None
