"""The inspector's own aiohttp server, on a loopback port of its own, everything under ``/_wsapp/``.

``GET /_wsapp/`` the page (static files shipped with the package); ``GET /_wsapp/api/state`` the API,
connections and recent entries; ``GET /_wsapp/api/stream`` Server-Sent Events as entries arrive;
``POST /_wsapp/api/{token,replay,post}`` the page's actions. POSTs must carry JSON and, when the
browser names one, this server's own Origin (a page of another site cannot drive them).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from wsapp.emulator.awslambda.invocation import Function
from wsapp.emulator.inspector.invocations import RecordedRuntimes
from wsapp.emulator.inspector.recorder import Recorder
from wsapp.emulator.logs import LogSink

STATIC = Path(__file__).parent / "static"
PREFIX = "/_wsapp"
BATCH_EVERY = 0.1  # seconds: entries arriving closer together go to the page in one event (10 a
# second is live to the eye; under load, fewer events also send each busy connection's row less often)
BATCH_ENTRIES = 200  # entries per event at most
FIRST_ENTRIES = 500  # how many recent entries the page gets when it opens


class Inspector:
    """The recorder, the functions it records, and the server that shows them.

    ``describe``: the API's description (api_view.describe). ``mint``: a token for a subject, or None
    when there is no local secret. ``post``: an ``@connections`` POST through the gateway's endpoint,
    returning its status.
    """

    def __init__(
        self,
        recorder: Recorder,
        sink: LogSink,
        *,
        describe: Callable[[], dict[str, Any]],
        mint: Callable[[str], dict[str, Any]] | None,
        post: Callable[[str, str], int],
    ) -> None:
        self.recorder, self.sink = recorder, sink
        self.describe, self.mint, self.post = describe, mint, post
        self.functions: RecordedRuntimes | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Task[Any]] = set()  # the SSE handlers, ended on shutdown

    def record(self, runtimes: Mapping[str, Function]) -> RecordedRuntimes:
        """The runtimes to give the gateway: each invocation through them is recorded."""
        self.functions = RecordedRuntimes(runtimes, self.recorder, self.sink)
        return self.functions

    # -- the server ---------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", _to_page)
        app.router.add_get(PREFIX, _to_page)
        app.router.add_get(f"{PREFIX}/", _page)
        app.router.add_static(f"{PREFIX}/static/", STATIC, show_index=False)
        app.router.add_get(f"{PREFIX}/api/state", self._state)
        app.router.add_get(f"{PREFIX}/api/entries/{{seq}}", self._entry)
        app.router.add_get(f"{PREFIX}/api/stream", self._stream)
        app.router.add_post(f"{PREFIX}/api/token", self._token)
        app.router.add_post(f"{PREFIX}/api/replay", self._replay)
        app.router.add_post(f"{PREFIX}/api/post", self._post)
        app.on_shutdown.append(self._end_streams)
        return app

    async def start(self, sock: socket.socket) -> None:
        self.recorder.bind(asyncio.get_running_loop())
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(
            self.web_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        # Served on loopback only; a name other than a loopback one is a DNS-rebinding attempt.
        host = request.host.rsplit(":", 1)[0].strip("[]")
        if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
            return _error(403, "the inspector answers on loopback names only")
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                return _error(403, "cross-origin request refused")
            if request.content_type != "application/json":
                return _error(415, "send application/json")
        return await handler(request)

    # -- reading ------------------------------------------------------------------------------------
    async def _state(self, request: web.Request) -> web.Response:
        recorder = self.recorder
        entries = recorder.since(0)[-FIRST_ENTRIES:]
        body = {
            "api": recorder.masker.value(self.describe()),
            "connections": recorder.connection_rows(),
            "entries": [recorder.brief(e) for e in entries],
            "lastSeq": entries[-1]["seq"] if entries else 0,
            "capacity": recorder.entries.maxlen,
            "canMint": self.mint is not None,
        }
        return web.json_response(body, dumps=_dumps)

    async def _entry(self, request: web.Request) -> web.Response:
        entry = self.recorder.find(_int(request.match_info["seq"]))
        if entry is None:
            return _error(404, "no such entry (the ring buffer may have dropped it)")
        return web.json_response(self.recorder.public(entry), dumps=_dumps)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: one ``entries`` event per batch, with the connections they touched."""
        after = _int(request.query.get("after", "0"))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        arrived = self.recorder.listen()
        try:
            await response.write(b": connected\n\n")
            while True:
                batch = self.recorder.since(after)[:BATCH_ENTRIES]
                if batch:
                    after = batch[-1]["seq"]
                    touched = dict.fromkeys(e["connectionId"] for e in batch if e.get("connectionId"))
                    data = {
                        "entries": [self.recorder.brief(e) for e in batch],
                        "connections": self.recorder.connection_rows(touched),
                    }
                    await response.write(f"event: entries\ndata: {_dumps(data)}\n\n".encode())
                if len(batch) < BATCH_ENTRIES:  # else the rest goes at once, in the next event
                    arrived.clear()
                    await arrived.wait()
                await asyncio.sleep(BATCH_EVERY)  # what else arrives meanwhile goes in the same event
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.recorder.unlisten(arrived)
            if task is not None:
                self._streams.discard(task)
        return response

    async def _end_streams(self, _: web.Application) -> None:
        for task in list(self._streams):
            task.cancel()

    # -- actions ------------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        if self.mint is None:
            return _error(409, "no local secret: this gateway was started without dev_secret")
        body = await _json_body(request)
        subject = str(body.get("sub") or "inspector")
        return web.json_response(self.mint(subject))

    async def _replay(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        entry = self.recorder.find(_int(str(body.get("seq", ""))))
        if entry is None or entry["kind"] != "invoke":
            return _error(404, "no recorded invocation with that seq")
        function = self.functions.get(entry["function"]) if self.functions is not None else None
        if function is None:
            return _error(404, f"function {entry['function']} is not served")
        timeout = function.inner.spec.timeout if hasattr(function.inner, "spec") else None
        event = self.recorder.event_of(entry)
        result = await function.submit(event, wait=timeout, replay_of=entry["seq"])
        return web.json_response({"requestId": result.request_id, "ok": result.ok})

    async def _post(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        connection_id, data = body.get("connectionId"), body.get("data")
        if not isinstance(connection_id, str) or not connection_id or not isinstance(data, str):
            return _error(400, "give connectionId and data (text)")
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(None, self.post, connection_id, data)
        return web.json_response({"status": status})


async def _to_page(_: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PREFIX}/")


async def _page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise web.HTTPBadRequest(text="not a number") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object, please")
    return body


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
