"""Opening and closing one websocket-client connection, in the terms of :mod:`wsapp.locust.frames`."""

from __future__ import annotations

import websocket

from wsapp.cli import UsageError
from wsapp.cli.connect import trusted_ca
from wsapp.locust.frames import CannotConnect, HandshakeRefused


def open_connection(
    url: str, protocols: list[str], *, timeout: float, ca: str | None = None
) -> websocket.WebSocket:
    """The open connection; :class:`HandshakeRefused` (the HTTP status) or :class:`CannotConnect`.

    ``wss://`` is verified against ``ca``, else the local CA for a loopback URL (``wsapp local
    --tls``), else the system's roots, as ``wsapp connect`` does.
    """
    try:
        ca_file = trusted_ca(url, ca)
    except UsageError as exc:
        raise CannotConnect(str(exc)) from None
    try:
        ws = websocket.create_connection(
            url, timeout=timeout, subprotocols=protocols, sslopt={"ca_certs": ca_file} if ca_file else None
        )
    except websocket.WebSocketBadStatusException as exc:
        raise HandshakeRefused(f"HTTP {exc.status_code}") from None
    except (websocket.WebSocketException, OSError, ValueError) as exc:
        raise CannotConnect(_one_line(exc)) from None
    ws.settimeout(None)  # a reader waits for as long as the connection lives; requests time out
    return ws


def close_connection(ws: websocket.WebSocket, timeout: float = 1.0) -> None:
    """Close normally (1000) and wait up to ``timeout`` for the server's close (0: do not wait); the
    socket is closed.

    By hand: websocket-client's ``close()`` swallows every exception, Locust's kill (GreenletExit)
    included, and a user that survives its kill hangs the end of the run. No other greenlet may be
    reading ``ws``.
    """
    try:
        ws.send_close()
        ws.settimeout(timeout)
        while timeout > 0 and ws.recv_frame().opcode != websocket.ABNF.OPCODE_CLOSE:
            pass
    except (websocket.WebSocketException, OSError):
        pass  # dropped, or slow to answer: the socket is closed below all the same
    finally:
        ws.shutdown()


def close_code(data: bytes) -> tuple[int, str]:
    """A close frame's (code, reason); 1005 when it carries no code (RFC 6455 §7.1.5)."""
    if len(data) < 2:
        return 1005, ""
    return int.from_bytes(data[:2], "big"), data[2:].decode(errors="replace")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
