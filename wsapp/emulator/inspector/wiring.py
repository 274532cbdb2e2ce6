"""The inspector of one :class:`LocalGateway`: its masker (the NoEcho values of its template), token
minting with the local secret, and ``@connections`` posts through the gateway's own endpoint."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from wsapp.emulator.inspector.api_view import describe
from wsapp.emulator.inspector.masking import Masker
from wsapp.emulator.inspector.recorder import Recorder
from wsapp.emulator.inspector.server import Inspector
from wsapp.emulator.template.loader import read_template

if TYPE_CHECKING:
    from wsapp.emulator.gateway import LocalGateway


def no_echo_values(gateway: LocalGateway) -> list[str]:
    """The values the template's NoEcho parameters have in this run (given, or the dev secret)."""
    assert gateway.model is not None
    declared = read_template(gateway.template.resolve()).get("Parameters") or {}
    names = [
        k for k, v in declared.items() if isinstance(v, dict) and str(v.get("NoEcho", "")).lower() == "true"
    ]
    return [gateway.model.parameters[name] for name in names if gateway.model.parameters.get(name)]


def inspector_for(gateway: LocalGateway, entries: int) -> Inspector:
    model = gateway.model
    assert model is not None and gateway.sink is not None
    secrets = no_echo_values(gateway) + ([gateway.dev_secret] if gateway.dev_secret else [])
    recorder = Recorder(entries=entries, masker=Masker(secrets))

    def urls() -> dict[str, str | None]:
        return {
            "websocket": gateway.url,
            "management": gateway.management_endpoint,
            "lambda": gateway.lambda_endpoint,
            "caBundle": gateway.ca_bundle,
        }

    return Inspector(
        recorder,
        gateway.sink,
        describe=lambda: describe(model, gateway.limits, gateway.behaviour, urls=urls()),
        mint=_minter(gateway) if gateway.dev_secret else None,
        post=_poster(gateway),
    )


def _minter(gateway: LocalGateway) -> Any:
    from wsapp.auth import PROTOCOLS_ENV, app_protocols, issue_token

    model = gateway.model
    assert model is not None and gateway.dev_secret is not None
    secret = gateway.dev_secret
    # The application protocols the template's authorizer (or any function) is configured with.
    env = next((f.environment for f in model.functions.values() if PROTOCOLS_ENV in f.environment), {})

    def mint(subject: str) -> dict[str, Any]:
        return {
            "token": issue_token(subject, secret=secret),
            "protocols": list(app_protocols(env)),
            "sub": subject,
        }

    return mint


def _poster(gateway: LocalGateway) -> Any:
    """POST to ``@connections`` as any SDK caller would: boto3, SigV4-signed, over the gateway's port."""
    client: list[Any] = []
    lock = threading.Lock()

    def post(connection_id: str, data: str) -> int:
        import boto3
        from botocore.exceptions import ClientError

        from wsapp.emulator.gateway import DUMMY_CREDENTIALS

        with lock:
            if not client:
                key, secret = gateway.credentials or (
                    DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
                client.append(
                    boto3.client(
                        "apigatewaymanagementapi",
                        endpoint_url=gateway.management_endpoint,
                        region_name=gateway.account.region,
                        aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        verify=gateway.ca_bundle or True,
                    )
                )
        try:
            answer = client[0].post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except ClientError as exc:
            return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
        return int(answer["ResponseMetadata"]["HTTPStatusCode"])

    return post
