"""Every knob of the emulator, with API Gateway's documented values as defaults (reference §7).

Values marked UNCONFIRMED in the reference are knobs precisely because AWS does not document them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    frame_bytes: int = 32 * 1024  # inbound frame > 32 KB → close 1009 [DOC quotas]
    message_bytes: int = 128 * 1024  # inbound message (all fragments) > 128 KB → close 1009 [DOC quotas]
    post_bytes: int = 131_072  # @connections POST Data > 128 KB → 413 PayloadTooLargeException [MODEL]
    idle_timeout: float = 600.0  # 10 minutes without data frames in either direction [DOC quotas]
    max_duration: float = 7200.0  # 2 hours, absolute [DOC quotas]
    # UNCONFIRMED: the close code and reason API Gateway uses for idle and duration closes.
    idle_close: tuple[int, str] = (1001, "Going away")
    duration_close: tuple[int, str] = (1001, "Going away")
    connect_rate: float = 500.0  # new connections per second, account default [DOC quotas]; 0 = unlimited
    url_length: int = 4096  # WebSocket API URL length [DOC quotas]; over it → 414 (status UNCONFIRMED)
    authorizer_result_bytes: int = 8 * 1024  # [DOC quotas]; over it → 500 (UNCONFIRMED)
    authorizer_timeout: float = 29.0  # UNCONFIRMED for WebSocket; HTTP APIs document 10 s
    integration_timeout: float | None = None  # None: the template's TimeoutInMillis (default 29 s)


@dataclass(frozen=True)
class Behaviour:
    # UNCONFIRMED for WebSocket: REST stringifies authorizer context values in proxy events.
    stringify_authorizer_context: bool = True
    # RFC 6455 requires a Pong; ping/pong never counts as activity for the idle timer (reference §7.3).
    pong_on_ping: bool = True
    # UNCONFIRMED: whether API Gateway invokes one connection's messages concurrently (default) or in order.
    serialize_per_connection: bool = False
    # @connections needs a SigV4-signed request, as on AWS; ``credentials`` pins the access key id.
    require_sigv4: bool = True
    access_key_id: str | None = None
    # UNCONFIRMED for WebSocket: a throttled $connect is refused 500, by analogy with REST (reference §7).
    throttled_connect_status: int = 500
    # Outbound POST data that is not UTF-8 goes as a binary frame (UNCONFIRMED; AWS never documents it).
    binary_for_non_utf8: bool = True
    # UNCONFIRMED: ``/{stage}//@connections/{id}`` (the JS SDK v3 with an endpoint ending in "/") is
    # taken as ``/{stage}/@connections/{id}``. AWS documents neither; SigV4 signs the path with empty
    # segments removed (botocore's and the JS SDK's signers both do), so the signature matches either way.
    empty_segment_before_connections: bool = True
    # The $connect headers say what API Gateway's front end saw: clients reach AWS only over wss on 443,
    # so X-Forwarded-Proto is always "https" and X-Forwarded-Port "443" there (recorded CONNECT events,
    # reference §1.3). True gives those values locally too (an authorizer that insists on https passes);
    # False gives the local listener's own scheme and port.
    forwarded_as_on_aws: bool = True
    # UNCONFIRMED: a route with a $default RouteResponse but no RouteResponseSelectionExpression. AWS
    # documents both as needed for a two-way route; a public sample that works on AWS has only the
    # RouteResponse and documents the function's reply reaching the client
    # (aws-samples/serverless-patterns apigw-websocket-api-connection-dynamodb), so it is two-way here.
    route_response_suffices: bool = True
    # UNCONFIRMED: what a $connect proxy response without statusCode does. ``{}`` is taken as this
    # status (public apps return it from $connect and connect on AWS); None refuses it as a malformed
    # proxy response (502). ``null`` is always malformed, as observed on AWS (reference §1.6).
    connect_without_status: int | None = 200
