"""A fork server for Python execution environments: a new environment in milliseconds, not seconds.

Started once by the emulator with the part of Lambda's environment every Python function shares, it
imports what Lambda's Python runtime itself provides (boto3 and botocore, as ``/var/runtime`` does),
then forks one child per execution environment. Each child takes the function's own variables
(the whole environment is replaced, so nothing of the server's remains), working directory, module
search path and output pipes, reseeds its random generator, and runs ``bootstrap.py`` exactly as a
freshly started interpreter would. awslambdaric is not imported here: its client reads the Runtime
API's address when it loads, and every environment has its own.

Control socket (``SOCK_SEQPACKET``, fd given in argv): requests ``{"id", "argv", "env", "cwd",
"group"}`` with the child's stdout and stderr as passed descriptors; answers ``{"id", "pid"}`` or
``{"id", "error"}``; and, when a child ends, ``{"exit": pid, "status": n}`` (negative: the signal).
This file imports nothing from wsapp.
"""

import atexit
import ctypes
import importlib
import json
import os
import random
import runpy
import select
import signal
import socket
import sys
import time
import traceback

PRELOAD = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "botocore.endpoint",
    "botocore.auth",
    "botocore.parsers",
    "botocore.serialize",
    "botocore.validate",
    "botocore.regions",
    "botocore.httpsession",
    "botocore.retries.standard",
    "simplejson",
    "http.client",
)
PR_SET_PDEATHSIG = 1


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def _base_path(pythonpath: str) -> list[str]:
    """``sys.path`` without this script's folder and the server's ``PYTHONPATH`` entries."""
    own = {os.path.dirname(os.path.abspath(__file__)), *filter(None, pythonpath.split(os.pathsep))}
    return [p for p in sys.path[1:] if p not in own]


def _child(request: dict, fds: list[int], base_path: list[str], closing: list[int]) -> None:
    code = 1
    try:
        for fd in closing:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:  # the environment dies with the server (which dies with the emulator)
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if request.get("group"):
            os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in (devnull, *fds):
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        random.seed()
        entries = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [os.path.dirname(request["argv"][0]), *entries, *base_path]
        sys.argv = list(request["argv"])
        code = 0
        runpy.run_path(request["argv"][0], run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    base_path = _base_path(os.environ.get("PYTHONPATH", ""))
    _preload()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    os.set_blocking(wake_read, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _serve(control, base_path, wake_read, wake_write)
    except ConnectionError:
        # The emulator closed its end (it is stopping, and kills this process next): no traceback on
        # the stderr this process shares with it.
        return


def _serve(control: socket.socket, base_path: list[str], wake_read: int, wake_write: int) -> None:
    while True:
        readable, _, _ = select.select([control, wake_read], [], [])
        if wake_read in readable:
            try:
                os.read(wake_read, 4096)
            except BlockingIOError:
                pass
            _reap(control)
        if control in readable:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
            if not message:
                return  # the emulator went away
            request = json.loads(message)
            try:
                pid = os.fork()
            except OSError as exc:
                for fd in fds:
                    os.close(fd)
                control.send(json.dumps({"id": request["id"], "error": str(exc)}).encode())
                continue
            if pid == 0:
                _child(request, fds, base_path, [control.fileno(), wake_read, wake_write])
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"id": request["id"], "pid": pid}).encode())
        _reap(control)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"exit": pid, "status": os.waitstatus_to_exitcode(raw)}).encode())


if __name__ == "__main__":
    main()
