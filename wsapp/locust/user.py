"""A Locust user holding one WebSocket connection to an API Gateway WebSocket API (or the local gateway).

The connection is websocket-client's, made cooperative by Locust's gevent monkey-patching: a reader
greenlet per user receives every frame while the user's tasks send. A request carries a correlation id
(``{"action": "marco", "id": "locust-0-3-17"}``) and waits for the frame that echoes it; replies come
back asynchronously, through ``@connections``, so pairing is by id, never by order. Each pair is one
request in Locust's statistics: name = action, response time = until the paired reply arrived (taken
by the reader, not when the task wakes up). Failures: an error frame (its ``message``), no reply in
time, the connection closed under it (with the close code). Frames that answer nothing of ours
(another user's broadcast) are counted as received messages (type ``RECV``, no response time).
A connect is a request of its own (``connect``: the handshake's time, the HTTP status on refusal).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import gevent
import websocket
from gevent.event import AsyncResult
from locust import User
from locust.exception import StopUser

from wsapp.locust import frames
from wsapp.locust.connection import close_code, close_connection, open_connection
from wsapp.locust.frames import CannotConnect, ConnectionClosed, ErrorFrame, HandshakeRefused, ReplyTimeout
from wsapp.locust.options import mint_token, option, pacer

REQUEST = "WS"  # Locust's "type" column: a request/reply pair, a connect, an unexpected close
RECEIVED = "RECV"  # a frame that answers no request of this user
_users = itertools.count()


class WebSocketUser(User):
    """One connection per user, kept across tasks and reopened (as a new ``connect``) after a close.

    Subclass it with ``@task`` methods calling :meth:`request`; ``host`` is the ``ws://`` or ``wss://``
    URL (``--host``). ``protocols`` are offered before the token in ``Sec-WebSocket-Protocol``.
    """

    abstract = True
    protocols: tuple[str, ...] = ("wsapp.v1",)
    error_actions: tuple[str, ...] = frames.ERROR_ACTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        index = getattr(self.environment.runner, "worker_index", 0)
        self.sub = f"locust-{index}-{next(_users)}"  # unique across workers: the master numbers them
        self.ws: websocket.WebSocket | None = None
        self._ids = itertools.count()
        self._pending: dict[str, AsyncResult] = {}
        self._reader: gevent.Greenlet | None = None
        self._opened_at = 0.0

    def on_start(self) -> None:
        self.connect()

    def on_stop(self) -> None:
        # Without waiting for the server's close: a worker sends its last statistics only once every
        # user has stopped, and the master waits half a second for them.
        self.disconnect(wait=0)

    @property
    def connected(self) -> bool:
        return self.ws is not None

    def connect(self) -> bool:
        """Open the connection with a freshly minted token; report it as ``connect``. True if open."""
        pacer.wait(self.environment)
        start = time.perf_counter()
        try:
            token = mint_token(self.environment, self.sub)
            start = time.perf_counter()  # the handshake's time, not the token command's
            ws = self._handshake(token)
        except (HandshakeRefused, CannotConnect) as exc:
            self._report("connect", start, exception=exc)
            return False
        self._report("connect", start)
        self.ws, self._opened_at = ws, time.monotonic()
        self._reader = gevent.spawn(self._read, ws)
        return True

    def disconnect(self, wait: float = 1.0) -> None:
        """Close the connection normally (1000), waiting up to ``wait`` seconds for the server's close;
        whatever is still waiting for a reply is not counted."""
        ws, self.ws = self.ws, None
        if ws is None:
            return
        if self._reader is not None:
            self._reader.kill(timeout=1)  # before the close handshake reads the socket: one reader at a time
        close_connection(ws, wait)

    def request(
        self,
        action: str,
        fields: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        id_in: str | None = None,
    ) -> dict[str, Any] | None:
        """Send ``{"action": action, **fields}`` tagged with a correlation id and wait for its reply.

        The id goes in ``id`` (as ``marco`` echoes it) or, with ``id_in="message"``, inside that field
        (as ``broadcast`` echoes its message). Reports the pair as ``name`` (default: the action) and
        returns the reply, or None if it failed. Reconnects first if the connection was closed.
        """
        if self.ws is None and not self.connect():
            return None
        ws = self.ws
        assert ws is not None
        ident = f"{self.sub}-{next(self._ids)}"
        frame: dict[str, Any] = {"action": action, **(fields or {})}
        if id_in is None:
            frame["id"] = ident
        else:
            frame[id_in] = {**frame.get(id_in, {}), "id": ident}
        text = json.dumps(frame, separators=(",", ":"))
        waiter = self._pending[ident] = AsyncResult()
        start = time.perf_counter()
        timeout = float(option(self.environment, "wsapp_reply_timeout"))
        try:
            ws.send(text)
            received_at, reply = waiter.get(timeout=timeout)
        except gevent.Timeout:
            self._report(name or action, start, exception=ReplyTimeout(f"no reply within {timeout:g} s"))
            return None
        except (frames.WebSocketFailure, websocket.WebSocketException, OSError) as exc:
            failure = exc if isinstance(exc, frames.WebSocketFailure) else ConnectionClosed(1006, str(exc))
            self._report(name or action, start, exception=failure)
            return None
        finally:
            self._pending.pop(ident, None)
        self._report(name or action, start, end=received_at, length=len(reply))
        return frames.parse(reply)

    # -- the reader greenlet ------------------------------------------------------------------------
    def _read(self, ws: websocket.WebSocket) -> None:
        code, reason = 1006, "connection lost"  # 1006: closed without a close frame (RFC 6455 §7.1.5)
        try:
            while True:
                opcode, frame = ws.recv_data_frame(control_frame=True)
                received_at = time.perf_counter()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    code, reason = close_code(frame.data or b"")
                    break
                if self.ws is not ws:
                    return  # closing (the user stopped): what still arrives answers nothing counted
                if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                    self._dispatch(frame.data, received_at)
        except (websocket.WebSocketException, OSError) as exc:
            reason = f"connection lost: {type(exc).__name__}"
        if self.ws is ws:  # not a close of ours
            self.ws = None
            self._closed(ConnectionClosed(code, reason))

    def _dispatch(self, data: bytes | str, received_at: float) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else data
        value = frames.parse(text)
        ident = frames.correlation_of(value) if value is not None else None
        problem = frames.error_text(value, self.error_actions) if value is not None else None
        waiter = self._pending.get(ident) if ident is not None else None
        if problem is not None and waiter is None and self._pending:
            # API Gateway's error frames carry no id of ours: they answer the oldest request in flight.
            waiter = next(iter(self._pending.values()))
        if waiter is None:  # another user's broadcast, a reply that came after its timeout ...
            name = "error frame" if problem is not None else str((value or {}).get("action", "message"))
            self._fire(RECEIVED, name, None, length=len(data))
        elif problem is not None:
            waiter.set_exception(ErrorFrame(problem))
        else:
            waiter.set((received_at, text))

    def _closed(self, why: ConnectionClosed) -> None:
        if self._pending:
            for waiter in list(self._pending.values()):
                waiter.set_exception(why)
            return
        # Closed with nothing in flight (the 2-hour cap, the idle timeout): a failure of its own, whose
        # response time is how long the connection lived.
        self._fire(REQUEST, "closed", (time.monotonic() - self._opened_at) * 1000, exception=why)

    # -- helpers --------------------------------------------------------------------------------------
    def _handshake(self, token: str) -> websocket.WebSocket:
        if not self.host:
            raise StopUser("no host: give the ws:// or wss:// URL with --host")
        return open_connection(
            self.host,
            [*self.protocols, token],
            timeout=float(option(self.environment, "wsapp_connect_timeout")),
            ca=option(self.environment, "wsapp_ca") or None,
        )

    def _report(
        self,
        name: str,
        start: float,
        *,
        end: float | None = None,
        length: int = 0,
        exception: Exception | None = None,
    ) -> None:
        elapsed = ((end if end is not None else time.perf_counter()) - start) * 1000
        self._fire(REQUEST, name, elapsed, length=length, exception=exception)

    def _fire(
        self, kind: str, name: str, ms: float | None, *, length: int = 0, exception: Exception | None = None
    ) -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=ms,
            response_length=length,
            exception=exception,
            context={"user": self.sub},
        )
