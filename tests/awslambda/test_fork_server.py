"""The Python fork server: it stops quietly when the emulator closes its end, whatever was in flight."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "wsapp/emulator/awslambda/runtimes/python/forkserver.py"


def test_the_emulator_closing_its_end_with_messages_unread_ends_the_server_without_a_traceback(tmp_path):
    # GIVEN a fork server whose child has run and exited: "pid" and "exit" messages wait, unread, on
    # the emulator's end (a stopping gateway closes it so; the server then sees ECONNRESET)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen(
        [sys.executable, str(SERVER), str(theirs.fileno())],
        pass_fds=(theirs.fileno(),),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    theirs.close()
    script = tmp_path / "child.py"
    script.write_text("print('ran')\n")
    out = os.open(tmp_path / "child.out", os.O_WRONLY | os.O_CREAT)
    request = {"id": 1, "argv": [str(script)], "env": {}, "cwd": str(tmp_path), "group": False}
    socket.send_fds(ours, [json.dumps(request).encode()], [out, out])
    os.close(out)
    deadline = time.monotonic() + 10
    while (tmp_path / "child.out").read_text() != "ran\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the server reaps the child and reports its exit

    # WHEN the emulator closes its end without reading
    ours.close()

    # THEN the server exits 0, and says nothing on the stderr it shares with the emulator
    assert server.wait(timeout=10) == 0
    assert server.stderr is not None and server.stderr.read() == ""
