"""The entry point of a Python execution environment: AWS's runtime interface client, unchanged.

Run as ``python bootstrap.py [--thread-polling] [--path DIR ...] [--sdk-channel SOCKET --sdk-endpoint
URL ...] HANDLER`` in the function's code folder. It does what the base images' ``/var/runtime/bootstrap.py``
does before ``awslambdaric`` drives the handler over the Runtime API: the task root first on
``sys.path``, then the folders Lambda has in ``/opt`` (here the ``--path`` folders: the function's
installed dependencies and its layers' python folders, in that order), each also a site directory so
their ``.pth`` files are read. Plus one emulator shortcut, only when asked: botocore requests for the
given endpoints (the local ``@connections`` API and DynamoDB) are carried over a Unix socket to the
emulator instead of a TCP connection each. botocore still serialises, signs, validates and parses every call.

This file imports nothing from wsapp: the environment needs only the interpreter's own packages.
The channel's framing (both directions): ``!II`` header length and body length, a JSON header, the body.
"""

import importlib.abc
import importlib.machinery
import json
import os
import site
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

_FRAME = struct.Struct("!II")
USAGE = "[--thread-polling] [--path DIR ...] [--sdk-channel SOCKET --sdk-endpoint URL ...] HANDLER"


class _Channel:
    """One Unix-socket connection per thread to the emulator's SDK channel."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.local = threading.local()

    def _socket(self) -> socket.socket:
        sock = getattr(self.local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.path)
            self.local.sock = sock
        return sock

    def call(self, head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        raw = json.dumps(head).encode()
        sock = self._socket()
        try:
            sock.sendall(_FRAME.pack(len(raw), len(body)) + raw + body)
            head_size, body_size = _FRAME.unpack(_read(sock, _FRAME.size))
            answer = json.loads(_read(sock, head_size))
            return answer, _read(sock, body_size)
        except OSError:
            self.local.sock = None
            sock.close()
            raise


def _read(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the emulator closed the SDK channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Raw:
    """The body of a channel answer, read the way botocore reads an HTTP response's."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data

    def read(self, *_: Any) -> bytes:
        data, self.data = self.data, b""
        return data


def _before_send(channel: _Channel, prefixes: tuple[str, ...]) -> Callable[..., Any]:
    """botocore's ``before-send`` handler: a response for the listed endpoints ends the request there.

    Runs inside botocore, so botocore's own modules are loaded by then (nothing is imported early).
    """

    def send(request: Any, **_: Any) -> Any:
        if not request.url.startswith(prefixes):
            return None
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import EndpointConnectionError

        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
            request.body = body  # read once: if the emulator passes, botocore sends these bytes
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        try:
            answer, payload = channel.call({"m": request.method, "u": request.url, "h": headers}, bytes(body))
        except OSError:
            raise EndpointConnectionError(endpoint_url=request.url) from None
        if answer.get("unreachable"):
            raise EndpointConnectionError(endpoint_url=request.url)
        if answer.get("pass"):
            return None  # the emulator does not answer this one itself: it goes over HTTP
        return AWSResponse(request.url, answer["s"], answer["h"], _Raw(payload))

    return send


class _WhenBotocoreLoads(importlib.abc.MetaPathFinder):
    """Register the hook as botocore's handlers module loads: every session made later gets it, and a
    function that never imports boto3 never pays for it."""

    def __init__(self, hook: Callable[..., Any]) -> None:
        self.hook = hook

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "botocore.handlers":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader, hook = spec.loader, self.hook

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)
                module.BUILTIN_HANDLERS.append(("before-send", hook))

        spec.loader = _Loader()
        sys.meta_path.remove(self)
        return spec


def main(argv: list[str]) -> None:
    channel_path: str | None = None
    endpoints: list[str] = []
    paths: list[str] = []
    args = list(argv[1:])
    thread_polling = False
    while args and args[0].startswith("--"):
        option = args.pop(0)
        if option == "--thread-polling":
            thread_polling = True
            continue
        value = args.pop(0)
        if option == "--sdk-channel":
            channel_path = value
        elif option == "--sdk-endpoint":
            endpoints.append(value.rstrip("/") + "/")
        elif option == "--path":
            paths.append(value)
    if len(args) != 1:
        sys.exit(f"usage: bootstrap.py {USAGE}")
    # Lambda's bootstrap.py (python3.11+ base images): LAMBDA_TASK_ROOT, then
    # /opt/python/lib/python3.x/site-packages and /opt/python, before the runtime's own packages; then
    # site.addsitedir() on each, for their .pth files.
    task_root = os.getcwd()
    sys.path[0:1] = [task_root, *paths]
    for folder in (task_root, *paths):
        site.addsitedir(folder)
    if channel_path and endpoints:
        hook = _before_send(_Channel(channel_path), tuple(endpoints))
        handlers = sys.modules.get("botocore.handlers")
        if handlers is not None:  # already loaded (the fork server preloads botocore)
            handlers.BUILTIN_HANDLERS.append(("before-send", hook))
        else:
            sys.meta_path.insert(0, _WhenBotocoreLoads(hook))
    from awslambdaric import bootstrap
    from awslambdaric.lambda_runtime_client import LambdaRuntimeClient

    # What awslambdaric's __main__ does, with the runtime's own choice of polling for the next event
    # from a helper thread (python3.12+, so signal handlers run while idle) left to the emulator: a
    # thread per invocation costs ~0.3 ms here, and without extensions Lambda sends no signal anyway.
    client = LambdaRuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"], thread_polling)
    bootstrap.run(args[0], client)


if __name__ == "__main__":
    main(sys.argv)
