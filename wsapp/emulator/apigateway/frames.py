"""The WebSocket side of the gateway's sockets: the 101 that API Gateway sends, and its frame limit.

aiohttp negotiates subprotocols itself; API Gateway never does (reference §4.2): the 101 carries
``Sec-WebSocket-Protocol`` only when ``$connect`` returned one, exactly as returned. aiohttp limits
whole messages; API Gateway also limits each frame to 32 KB, so a small scanner reads frame headers
on the raw byte stream before aiohttp's parser does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from aiohttp import WebSocketError, WSMsgType, hdrs, web

_DATA_OPCODES = {0x0, 0x1, 0x2}


class GatewayWebSocket(web.WebSocketResponse):
    def __init__(
        self, *, protocol: str | None, frame_limit: int, on_oversize_frame: Callable[[], None], **kwargs: Any
    ) -> None:
        super().__init__(protocols=(), compress=False, **kwargs)  # permessage-deflate: not negotiated
        self._gateway_protocol = protocol
        self._frame_limit = frame_limit
        self._on_oversize_frame = on_oversize_frame

    def _handshake(self, request: web.BaseRequest) -> tuple[Any, str | None, int, bool]:
        # aiohttp warns (on stderr, token and all) when no offered protocol is "server-known"; API
        # Gateway has no known ones, so treat the offer as known and replace aiohttp's choice below.
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "")
        self._protocols = tuple(p.strip() for p in offered.split(",") if p.strip())
        headers, _, compress, notakeover = super()._handshake(request)
        headers.pop(hdrs.SEC_WEBSOCKET_PROTOCOL, None)
        if self._gateway_protocol:
            headers[hdrs.SEC_WEBSOCKET_PROTOCOL] = self._gateway_protocol
        return headers, self._gateway_protocol, compress, notakeover

    async def receive(self, timeout: float | None = None) -> Any:
        msg = await super().receive(timeout)
        if msg.type is WSMsgType.ERROR and isinstance(msg.data, WebSocketError):
            # aiohttp closed with the error's code (1009 for a message over the size limit), but its
            # close handshake then fails on the broken parser and overwrites close_code with 1006;
            # keep the code actually sent, which $disconnect reports.
            self._close_code = msg.data.code
        return msg

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        proto = request.protocol
        parser = getattr(proto, "_payload_parser", None)
        if parser is not None:  # aiohttp internals; tests cover the 1009 this enables
            proto._payload_parser = FrameLimit(parser, self._frame_limit, self._on_oversize_frame)


class FrameLimit:
    """Feeds bytes to aiohttp's parser unless a data frame's declared length exceeds the limit."""

    def __init__(self, parser: Any, limit: int, on_violation: Callable[[], None]) -> None:
        self.parser, self.limit, self.on_violation = parser, limit, on_violation
        self._header = bytearray()
        self._skip = 0
        self._tripped = False

    def feed_eof(self) -> None:
        self.parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._tripped:
            return False, b""
        view, pos, size = memoryview(data), 0, len(data)
        while pos < size:
            if self._skip:
                step = min(self._skip, size - pos)
                self._skip -= step
                pos += step
                continue
            self._header.append(view[pos])
            pos += 1
            length = self._frame_length()
            if length is None:
                continue
            opcode = self._header[0] & 0x0F
            masked = self._header[1] & 0x80
            self._header.clear()
            if opcode in _DATA_OPCODES and length > self.limit:
                self._tripped = True
                self.on_violation()
                return False, b""
            self._skip = length + (4 if masked else 0)
        return self.parser.feed_data(data)

    def _frame_length(self) -> int | None:
        """The payload length once the header (up to the extended length) is complete."""
        h = self._header
        if len(h) < 2:
            return None
        flag = h[1] & 0x7F
        if flag < 126:
            return flag
        need = 4 if flag == 126 else 10
        if len(h) < need:
            return None
        return int.from_bytes(h[2:need], "big")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.parser, name)


def encode_frame(data: str | bytes) -> bytes:
    """One unfragmented, unmasked server frame (RFC 6455 §5.2): text for ``str``, binary for ``bytes``."""
    opcode, payload = (0x1, data.encode()) if isinstance(data, str) else (0x2, data)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload
