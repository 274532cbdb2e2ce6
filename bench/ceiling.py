"""The machine's ceiling: a bare aiohttp WebSocket server that answers by itself.

``marco`` → ``polo`` and ``ping`` → ``pong`` straight from the socket handler, ``broadcast`` to every
open socket; no authorizer, no Lambda, no @connections. Run: ``python bench/ceiling.py PORT``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from aiohttp import WSMsgType, web

SOCKETS: set[web.WebSocketResponse] = set()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("wsapp.v1",), compress=False)
    await ws.prepare(request)
    SOCKETS.add(ws)
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            action = json.loads(msg.data).get("action")
            if action == "marco":
                await ws.send_str(json.dumps({"action": "polo", "ts": _now()}))
            elif action == "ping":
                await ws.send_str(json.dumps({"action": "pong", "ts": _now()}))
            elif action == "broadcast":
                frame = json.dumps({"action": "broadcast", "message": json.loads(msg.data).get("message")})
                for other in list(SOCKETS):
                    await other.send_str(frame)
    finally:
        SOCKETS.discard(ws)
    return ws


def main() -> None:
    app = web.Application()
    app.router.add_get("/prod", websocket)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
