"""``wsapp connect URL``: a wscat-like client for local and deployed WebSocket APIs.

Interactive: typed lines are sent, received frames printed with time stamps; end of input closes the
connection. Scripted: ``--send JSON`` (repeatable) ``--expect TEXT --timeout S`` exits 0 once a frame
contains TEXT, 1 if none does in time, 2 for bad usage or a failed connection. The token, if given,
is offered as a subprotocol beside ``wsapp.v1``, the way a browser client has to send it.

``wss://``: the server's certificate is checked against the system's roots, or against ``--ca PEM``;
a ``wss://`` URL on a loopback address (``wsapp local --tls``) trusts the local CA by itself.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import ssl
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wsapp.cli import UsageError

APP_PROTOCOL = "wsapp.v1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="ws:// or wss:// URL, e.g. the stack's WebSocketURL output")
    parser.add_argument("--token", help="offered in Sec-WebSocket-Protocol beside wsapp.v1")
    parser.add_argument("--send", action="append", default=[], metavar="JSON", help="send this frame")
    parser.add_argument("--expect", metavar="TEXT", help="succeed once a received frame contains TEXT")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for connecting and expecting")
    parser.add_argument(
        "--ca",
        metavar="PEM",
        help="trust this CA certificate for wss:// (default: the local CA for loopback URLs)",
    )


def stamp() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def show(line: str) -> None:
    print(f"{stamp()} {line}", flush=True)


def open_connection(args: argparse.Namespace) -> Any:
    import websocket

    protocols = [APP_PROTOCOL] + ([args.token] if args.token else [])
    ca = trusted_ca(args.url, args.ca)
    sslopt = {"ca_certs": ca} if ca else None
    try:
        ws = websocket.create_connection(
            args.url, timeout=args.timeout, subprotocols=protocols, sslopt=sslopt
        )
    except websocket.WebSocketBadStatusException as exc:
        raise UsageError(f"handshake rejected: HTTP {exc.status_code}") from None
    except ssl.SSLCertVerificationError as exc:
        why = getattr(exc, "verify_message", None) or exc
        hint = "" if ca else " (--ca PEM names the CA to trust)"
        raise UsageError(f"cannot connect to {args.url}: certificate verify failed: {why}{hint}") from None
    except (websocket.WebSocketException, OSError, ValueError) as exc:
        raise UsageError(f"cannot connect to {args.url}: {exc}") from None
    show(f"connected: HTTP {ws.getstatus()}, subprotocol {ws.getsubprotocol() or '(none)'}")
    return ws


def trusted_ca(url: str, given: str | None) -> str | None:
    """The CA file to verify a ``wss://`` server with: ``--ca``, else the local CA for a loopback host
    once ``wsapp local --tls`` has made it, else None (the system's roots)."""
    if given is not None:
        if not Path(given).is_file():
            raise UsageError(f"--ca {given}: no such file")
        return given
    parts = urlsplit(url)
    if parts.scheme != "wss" or not _loopback(parts.hostname or ""):
        return None
    from wsapp.emulator.apigateway.tls import CA_FILE, default_folder

    local = default_folder() / CA_FILE
    return str(local) if local.is_file() else None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def receive(ws: Any) -> str | None:
    """The next text frame, printed; None once the connection is closed (its close code printed)."""
    import websocket

    try:
        opcode, data = ws.recv_data(control_frame=True)
    except websocket.WebSocketConnectionClosedException:
        show("closed: connection lost")
        return None
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005  # 1005: no code sent
        reason = data[2:].decode(errors="replace")
        show(f"closed: code {code}" + (f" ({reason})" if reason else ""))
        return None
    if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
        return ""
    text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
    show(f"< {text}")
    return text


def scripted(ws: Any, frames: list[str], expect: str | None, timeout: float) -> int:
    import websocket

    for frame in frames:
        ws.send(frame)
        show(f"> {frame}")
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ws.settimeout(left)
        try:
            text = receive(ws)
        except websocket.WebSocketTimeoutException:
            break
        if text is None:
            return 1 if expect else 0
        if expect and expect in text:
            return 0
    if expect:
        print(f"wsapp connect: no frame containing {expect!r} within {timeout:g} s", file=sys.stderr)
        return 1
    return 0


def interactive(ws: Any, timeout: float) -> int:
    ws.settimeout(None)
    reader = threading.Thread(target=lambda: _read_until_closed(ws), daemon=True)
    reader.start()
    for line in sys.stdin:
        if not reader.is_alive():
            break
        ws.send(line.rstrip("\n"))
    if reader.is_alive():
        # End of input: close normally, and keep printing what arrives before the server's close.
        ws.send_close()
        reader.join(timeout)
    return 0


def _read_until_closed(ws: Any) -> None:
    while receive(ws) is not None:
        pass


def run(args: argparse.Namespace) -> int:
    for frame in args.send:
        try:
            json.loads(frame)
        except ValueError:
            raise UsageError(f"--send wants JSON, got {frame!r}") from None
    ws = open_connection(args)
    try:
        if args.send or args.expect:
            return scripted(ws, args.send, args.expect, args.timeout)
        return interactive(ws, args.timeout)
    finally:
        ws.close(timeout=1)
