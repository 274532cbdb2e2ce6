"""API Gateway's WebSocket stage: handshake, authorizer, routing, frames and limits, ``@connections``.

It calls functions only through the Lambda service's invoke interface (``awslambda.invocation``).
"""
