"""wsapp's pytest plugin (entry point ``pytest11``): the project's template on the local gateway, as fixtures.

``local_gateway`` serves the template once per session; ``ws_connect`` opens authorized connections to it
and closes them after the test; ``wsapp_token`` is a token the template's authorizer accepts;
``management_client`` is boto3's ``apigatewaymanagementapi`` for the gateway; ``invoke_function`` runs
one function on one event and records what it posts.

Settings, command line over configuration file: ``--wsapp-template`` / ``wsapp_template`` (default
``template.yaml`` in the rootdir), ``--wsapp-parameter KEY=VALUE`` / ``wsapp_parameters`` (one per line),
``--wsapp-isolation`` / ``wsapp_isolation`` (``process`` or ``thread``; default ``$WSAPP_ISOLATION``,
else ``process``).

The plugin is loaded by every pytest run in an environment that has wsapp, so importing it stays cheap:
the emulator, boto3 and websocket-client are imported inside the fixtures that use them. A conftest.py
may override ``local_gateway`` with a gateway of its own (``LocalGateway(..., tls=True)``, say): the other
fixtures use whatever it yields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import websocket

    from wsapp.emulator import LocalGateway
    from wsapp.emulator.invoke import Outcome

ISOLATIONS = ("process", "thread")
TOKEN_SUBJECT = "pytest"  # the principal ``wsapp_token`` names
SECRET_PARAMETER = "TokenSecret"  # the parameter wsapp's templates give the authorizer its secret in
APP_PROTOCOLS = ("wsapp.v1",)  # offered beside the token, as wsapp's clients do
TIMEOUT = 10.0  # seconds any connect or receive of a ``ws_connect`` connection may take
_DEFAULT: Any = object()  # ``ws_connect(token=...)`` not given: ``wsapp_token``'s secret signs one


@dataclass(frozen=True)
class Settings:
    """Where the template is and how the gateway runs it (``wsapp_settings``)."""

    template: Path
    parameters: Mapping[str, str] = field(default_factory=dict)
    isolation: str | None = None

    @property
    def token_secret(self) -> str:
        """What tokens are signed with: the ``TokenSecret`` parameter if set, else the local development
        secret the gateway gives NoEcho parameters that have no value."""
        from wsapp.auth import LOCAL_DEV_SECRET

        return self.parameters.get(SECRET_PARAMETER) or LOCAL_DEV_SECRET


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wsapp", "wsapp: the project's template on the local API Gateway")
    group.addoption(
        "--wsapp-template", metavar="PATH", help="the template (default: template.yaml in the rootdir)"
    )
    group.addoption(
        "--wsapp-parameter", action="append", default=[], metavar="KEY=VALUE", help="a template parameter"
    )
    group.addoption("--wsapp-isolation", choices=ISOLATIONS, help="how functions run (default: process)")
    parser.addini("wsapp_template", "the template, relative to the config file", default="template.yaml")
    parser.addini("wsapp_parameters", "template parameters, KEY=VALUE one per line", type="linelist")
    parser.addini("wsapp_isolation", "process or thread", default="")


def pytest_configure(config: pytest.Config) -> None:
    # Read once, so a bad setting is one usage error at start, not an error in every test.
    config.stash[_SETTINGS] = read_settings(config)


def read_settings(config: pytest.Config) -> Settings:
    base = config.inipath.parent if config.inipath else config.rootpath
    option = config.getoption("wsapp_template")
    if option:
        template = Path(config.invocation_params.dir, option)
    else:
        template = base / str(config.getini("wsapp_template"))
    parameters = _pairs(config.getini("wsapp_parameters"), "wsapp_parameters")
    parameters |= _pairs(config.getoption("wsapp_parameter"), "--wsapp-parameter")
    isolation = config.getoption("wsapp_isolation") or str(config.getini("wsapp_isolation")).strip()
    if isolation and isolation not in ISOLATIONS:
        raise pytest.UsageError(f"wsapp_isolation must be process or thread, not {isolation!r}")
    return Settings(template.resolve(), parameters, isolation or None)


def _pairs(lines: list[str], where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep or not key:
            raise pytest.UsageError(f"{where} wants KEY=VALUE, got {line.strip()!r}")
        values[key.strip()] = value
    return values


_SETTINGS = pytest.StashKey[Settings]()


@pytest.fixture(scope="session")
def wsapp_settings(pytestconfig: pytest.Config) -> Settings:
    """The template, parameters and isolation the other fixtures use."""
    return pytestconfig.stash[_SETTINGS]


@pytest.fixture(scope="session")
def local_gateway(wsapp_settings: Settings) -> Iterator[LocalGateway]:
    """The template served by a :class:`~wsapp.emulator.LocalGateway` for the whole session."""
    from wsapp.emulator import EmulatorError, LocalGateway

    _require_template(wsapp_settings)
    gateway = LocalGateway(
        wsapp_settings.template, parameters=wsapp_settings.parameters, isolation=wsapp_settings.isolation
    )
    try:
        gateway.start()
    except EmulatorError as exc:
        pytest.fail(f"wsapp: the local gateway did not start: {exc}", pytrace=False)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def wsapp_token(wsapp_settings: Settings) -> str:
    """A token for the subject ``pytest`` that the template's authorizer accepts (fresh for each test)."""
    from wsapp.auth import issue_token

    return issue_token(TOKEN_SUBJECT, secret=wsapp_settings.token_secret)


@pytest.fixture
def ws_connect(
    local_gateway: LocalGateway, wsapp_settings: Settings, wsapp_token: str
) -> Iterator[Callable[..., websocket.WebSocket]]:
    """``ws_connect(query="", *, token=..., subject=None, protocols=("wsapp.v1",), **options)``: a
    websocket-client connection to the gateway, closed after the test.

    The token goes in ``Sec-WebSocket-Protocol`` after ``protocols``: by default ``wsapp_token``, with
    ``subject`` one minted for that subject, with ``token=None`` none. ``connection.connection_id`` is
    the id the gateway gave it. A refused handshake raises ``websocket.WebSocketBadStatusException``
    (its ``status_code`` is 401, 403, ...).
    """
    import websocket

    from wsapp.auth import issue_token

    opened: list[websocket.WebSocket] = []

    def connect(
        query: str = "",
        *,
        token: str | None = _DEFAULT,
        subject: str | None = None,
        protocols: tuple[str, ...] = APP_PROTOCOLS,
        timeout: float = TIMEOUT,
        **options: Any,
    ) -> websocket.WebSocket:
        if token is _DEFAULT:
            secret = wsapp_settings.token_secret
            token = wsapp_token if subject is None else issue_token(subject, secret=secret)
        offered = [*protocols, *([token] if token else [])]
        url = local_gateway.url + (f"?{query.removeprefix('?')}" if query else "")
        if local_gateway.ca_bundle is not None:
            options.setdefault("sslopt", {"ca_certs": local_gateway.ca_bundle})
        connection = websocket.create_connection(url, timeout=timeout, subprotocols=offered, **options)
        opened.append(connection)
        connection.connection_id = local_gateway.connection_id_for(connection.sock.getsockname())
        return connection

    yield connect
    for connection in opened:
        connection.close(timeout=1)


@pytest.fixture(scope="session")
def management_client(local_gateway: LocalGateway) -> Any:
    """boto3's ``apigatewaymanagementapi`` client for the gateway's ``@connections`` API (local keys:
    the gateway wants a SigV4 signature, any keys make one)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=local_gateway.management_endpoint,
        region_name=local_gateway.account.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        verify=local_gateway.ca_bundle or True,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=15),
    )


@pytest.fixture
def invoke_function(wsapp_settings: Settings, pytestconfig: pytest.Config) -> Callable[..., Outcome]:
    """``invoke_function(event, *, function=None, env_vars=None)``: run one function of the template on
    one event (a dict, or a JSON file relative to the rootdir) in an execution environment of its own,
    as ``wsapp invoke`` does. ``@connections`` calls are recorded, not sent: the :class:`Outcome` has the
    response (``.invocation``) and the posts (``.posts``; ``.messages`` decoded)."""
    from wsapp.emulator.invoke import invoke

    _require_template(wsapp_settings)

    def run(
        event: Mapping[str, Any] | str | Path,
        *,
        function: str | None = None,
        env_vars: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Outcome:
        if not isinstance(event, Mapping):
            event = json.loads(Path(pytestconfig.rootpath, event).read_text())
        [outcome] = invoke(
            wsapp_settings.template,
            [event],
            function=function,
            parameters=wsapp_settings.parameters,
            isolation=wsapp_settings.isolation,
            env_vars=env_vars,
        )
        return outcome

    return run


def _require_template(settings: Settings) -> None:
    if not settings.template.is_file():
        pytest.fail(
            f"wsapp: no template at {settings.template} (set wsapp_template or --wsapp-template)",
            pytrace=False,
        )
