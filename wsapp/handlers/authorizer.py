"""REQUEST authorizer for ``$connect``: verify the token offered in ``Sec-WebSocket-Protocol``."""

from __future__ import annotations

from typing import Any

from wsapp import policy
from wsapp.auth import app_protocols, secret_from_env, split_offer, verify_token
from wsapp.errors import InvalidToken, Unauthorized
from wsapp.events import AuthorizerRequestEvent
from wsapp.logs import logger


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Allow → policy for this API and stage; bad token → Deny (403); no token → ``Unauthorized`` (401).

    Any other exception (a missing secret, say) makes API Gateway answer 500, which is right for a
    misconfigured authorizer. The token itself is never logged.
    """
    request = AuthorizerRequestEvent(event)
    logger.thread_safe_append_keys(request_id=request.request_id, connection_id=request.connection_id)
    try:
        _, token = split_offer(request.header("Sec-WebSocket-Protocol"), app_protocols())
        if token is None:
            logger.info("no token offered")
            raise Unauthorized()
        try:
            claims = verify_token(token, secret=secret_from_env())
        except InvalidToken as exc:
            logger.info("token rejected", extra={"reason": str(exc)})
            return policy.deny("anonymous", request.method_arn)
        subject = str(claims["sub"])
        logger.info("token accepted", extra={"principal": subject})
        return policy.allow(subject, request.method_arn, {"sub": subject})
    finally:
        logger.thread_safe_remove_keys(["request_id", "connection_id"])
