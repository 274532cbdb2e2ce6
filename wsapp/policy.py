"""IAM policy documents a REQUEST authorizer returns (reference §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def api_stage_resource(method_arn: str) -> str:
    """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*`` from a ``$connect`` method ARN.

    Allowing the whole stage rather than the exact ``$connect`` ARN keeps the policy valid if a
    gateway ever caches it, while naming this API and stage only.
    """
    prefix, _, path = method_arn.partition(":execute-api:")
    parts = path.split("/")
    region_account_api = parts[0].split(":")
    if (
        not prefix.startswith("arn:")
        or len(parts) < 3
        or len(region_account_api) != 3
        or not all([*region_account_api, parts[1]])  # an empty region, account, API id or stage
    ):
        raise ValueError(f"not an execute-api method ARN: {method_arn!r}")
    return f"{prefix}:execute-api:{parts[0]}/{parts[1]}/*"


def _document(effect: str, resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
    }


def allow(principal_id: str, method_arn: str, context: Mapping[str, str | int | bool] = ()) -> dict[str, Any]:
    """Allow this API and stage; ``context`` is replayed to every event of the connection."""
    return {
        "principalId": principal_id,
        "policyDocument": _document("Allow", api_stage_resource(method_arn)),
        "context": dict(context),
    }


def deny(principal_id: str, method_arn: str) -> dict[str, Any]:
    """Deny this connection attempt (API Gateway answers the handshake with 403)."""
    return {"principalId": principal_id, "policyDocument": _document("Deny", method_arn)}
