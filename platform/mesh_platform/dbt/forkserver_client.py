"""The `mesh-dbt` executable: runs a dbt command in the dbt fork server, or as plain `dbt`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

# Nothing heavy here: this process starts once per dbt command, and start-up is what the fork
# server exists to save (forkserver itself imports the standard library only).
from mesh_platform.dbt.forkserver import SOCKET_ENV


def _plain_dbt(args: list[str]) -> None:
    """Become the real `dbt` of this environment (no server, or it could not be reached)."""
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    os.execv(dbt, [dbt, *args])


def _connect(path: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


def _forward_signals(pid: int) -> None:
    """Stopping this process (dagster-dbt's cancel) stops the dbt child it stands for."""

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)


def main() -> None:
    """Run ``dbt <args>`` in the server at ``MESH_DBT_FORKSERVER``; exit with its code."""
    args = sys.argv[1:]
    path = os.environ.get(SOCKET_ENV)
    conn = _connect(path) if path else None
    if conn is None:
        _plain_dbt(args)
        return
    request = {"args": args, "env": dict(os.environ), "cwd": os.getcwd()}
    with conn:
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [1, 2])
        reader = conn.makefile("rb")
        first = reader.readline()
        if not first or first.startswith(b"refused"):
            why = first.decode().strip() or "closed the connection"
            sys.stderr.write(f"mesh-dbt: the dbt fork server {why}\n")
            sys.exit(2)
        _forward_signals(int(first))
        last = reader.readline()
    # No exit code: the child died without reporting (killed); dbt's own code for a crash is 2.
    sys.exit(int(last) if last.strip() else 2)


if __name__ == "__main__":
    main()
