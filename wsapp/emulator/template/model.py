"""The model the emulator runs, read from template.yaml: one WebSocket API stage and what it calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Account:
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "wsapp-local"
    partition: str = "aws"
    # What CloudFormation's random suffix is to a generated physical name ({stack}-{LogicalId}-{suffix}):
    # here derived from the template's path, so two templates served in one process (whose embedded
    # services are shared) never share a table or a queue, and one template keeps its names run to run.
    name_suffix: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """One entry of a function's ``Layers``, in the listed order.

    A layer version this template declares has its local ``content``: the folder (or ``.zip``) that
    ``sam build``/``sam package`` would upload. Any other ARN (a public layer, another account's) has
    none, and cannot be fetched offline.
    """

    arn: str
    logical_id: str | None = None
    content: Path | None = None
    # Metadata.BuildMethod: ``sam build`` puts the content under python/ (python3.x) or nodejs/ (nodejs*)
    # and installs its requirements.txt/package.json there; without one the folder is /opt as it is.
    build_method: str | None = None


@dataclass(frozen=True)
class AsyncConfig:
    """``AWS::Lambda::EventInvokeConfig`` of one qualifier: how Lambda retries its async invocations."""

    max_retries: int | None = None  # MaximumRetryAttempts, 0-2 (None: Lambda's default, 2)
    max_event_age: int | None = None  # MaximumEventAgeInSeconds, 60-21600 (None: 6 hours)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_root: Path
    runtime: str
    timeout: float  # seconds
    memory: int  # MB
    arn: str
    environment: Mapping[str, str] = field(repr=False)  # may hold secrets
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions: a cap, and throttling past it
    layers: tuple[LayerSpec, ...] = ()  # Layers, in order (a later layer's files win in /opt)
    architecture: str = "x86_64"  # Architectures[0]
    # What the Invoke API's Qualifier may name besides $LATEST: the template's AWS::Lambda::Version
    # numbers, its aliases (name -> the version they point at), and per-qualifier async settings.
    versions: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    async_configs: Mapping[str, AsyncConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthorizerSpec:
    logical_id: str
    authorizer_id: str
    name: str
    function: FunctionSpec
    identity_sources: tuple[str, ...]


@dataclass(frozen=True)
class IntegrationResponseSpec:
    """An ``AWS::ApiGatewayV2::IntegrationResponse``: how a non-proxy backend's answer becomes a message."""

    key: str  # IntegrationResponseKey: "$default", or "/regex/" matched against the selection value
    templates: Mapping[str, str] = field(default_factory=dict)  # ResponseTemplates
    template_selection: str | None = None  # TemplateSelectionExpression


@dataclass(frozen=True)
class ServiceTarget:
    """What an AWS integration's ``arn:aws:apigateway:{region}:{service}:{action|path}/{rest}`` names."""

    region: str
    service: str  # the endpoint prefix: dynamodb, sqs, sns, states...
    style: str  # "action" (an operation of the service) or "path" (a resource path on its endpoint)
    rest: str  # the operation's name, or the path


@dataclass(frozen=True)
class IntegrationSpec:
    """A route's ``AWS::ApiGatewayV2::Integration`` other than ``AWS_PROXY`` (which needs no more than
    ``RouteSpec.function``): ``AWS`` (a Lambda function or another AWS service), ``MOCK``, ``HTTP``,
    ``HTTP_PROXY``, with the request and response mappings API Gateway applies."""

    logical_id: str
    kind: str  # IntegrationType
    uri: str | None  # IntegrationUri: a Lambda invocation ARN, an AWS service action/path, or a URL
    method: str = "POST"  # IntegrationMethod
    function: FunctionSpec | None = None  # the Lambda function an AWS integration's URI names
    service: ServiceTarget | None = None  # the other AWS service it names
    request_templates: Mapping[str, str] = field(default_factory=dict)
    template_selection: str | None = None  # TemplateSelectionExpression
    request_parameters: Mapping[str, str] = field(default_factory=dict)  # target -> source expression
    passthrough: str = "WHEN_NO_MATCH"  # PassthroughBehavior
    response_selection: str | None = None  # IntegrationResponseSelectionExpression
    responses: tuple[IntegrationResponseSpec, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    key: str
    function: FunctionSpec | None
    authorizer: AuthorizerSpec | None
    two_way: bool  # RouteResponseSelectionExpression and a $default RouteResponse, as AWS documents
    integration_timeout: float  # seconds
    integration: IntegrationSpec | None = None  # set when the integration is not AWS_PROXY
    # Route.ModelSelectionExpression and RequestModels (model name -> its JSON schema): the body is
    # validated before a non-proxy integration is called.
    model_selection: str | None = None
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # A $default RouteResponse without RouteResponseSelectionExpression: two-way or not is a gateway knob.
    route_response_only: bool = False


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class ResourceSpec:
    """Another resource the template declares that the embedded services create (a queue, a topic…)."""

    logical_id: str
    kind: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class EventSourceSpec:
    """An ``AWS::Lambda::EventSourceMapping`` (SAM ``Events: Type: DynamoDB`` / ``Kinesis`` / ``SQS``) the
    emulator runs."""

    logical_id: str
    function: str  # the function's logical id
    source_arn: str  # as the template resolves it: what the records' eventSourceARN says
    kind: str  # "dynamodb" (a table's stream), "kinesis" or "sqs"
    resource: str  # the table whose stream it reads, the Kinesis stream's or the queue's name
    batch_size: int = 100  # Lambda's defaults: 100 for DynamoDB and Kinesis streams, 10 for SQS
    starting_position: str = "LATEST"
    starting_timestamp: float | None = None  # StartingPositionTimestamp, with AT_TIMESTAMP (Kinesis)
    identity_arn: str = ""  # the function's execution role: Kinesis records' invokeIdentityArn
    max_retries: int | None = None  # MaximumRetryAttempts (streams); None (-1): until the records expire
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge rule's ``rate(...)`` schedule, which the emulator fires."""

    logical_id: str
    rule: str  # the rule's name in the embedded EventBridge (on the default bus, as schedules are)
    period: float  # seconds


@dataclass(frozen=True)
class WebSocketApp:
    """What the emulator serves: one WebSocket API and one of its stages."""

    api_logical_id: str
    api_id: str
    stage: str
    selection_expression: str
    routes: Mapping[str, RouteSpec]
    functions: Mapping[str, FunctionSpec]  # every function of the template, by logical id
    tables: tuple[TableSpec, ...]
    account: Account
    parameters: Mapping[str, str] = field(repr=False)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    resources: tuple[ResourceSpec, ...] = ()

    # What the template declares and the emulator does not run yet (event sources, schedules): one line
    # each, printed as a warning at start, so nothing is skipped in silence.
    not_run: tuple[str, ...] = ()
    event_sources: tuple[EventSourceSpec, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()

    @property
    def routed_functions(self) -> frozenset[str]:
        """The functions API Gateway calls (routes and the authorizer): warm from the start. The others
        (``functions`` holds every function of the template) start on their first invocation."""
        names = {r.function.logical_id for r in self.routes.values() if r.function is not None}
        names |= {
            r.integration.function.logical_id
            for r in self.routes.values()
            if r.integration is not None and r.integration.function is not None
        }
        names |= {r.authorizer.function.logical_id for r in self.routes.values() if r.authorizer is not None}
        return frozenset(names)
