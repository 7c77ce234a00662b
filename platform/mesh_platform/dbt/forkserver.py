"""A dbt fork server: one process imports dbt once, then forks a fresh child per `dbt` command.

Every `dbt build` of a domain was its own Python process that paid dbt's imports (about 1.7 s
measured per process, bench/README.md) before doing any work. The server pays them once per
`mesh up`; each command runs in a child forked from it, so it starts from the state a new `dbt`
process would have after its imports, with none of another command's state (dbt keeps global
flags and an adapter registry per process). The server never starts a thread: dbt's parser
deadlocked in a child forked from a process with threads (see ``dbt.project.prepare_manifest``).

The client (``mesh_platform.dbt.forkserver_client``, the ``mesh-dbt`` executable) hands over its
own stdout and stderr, so dbt's JSON log lines reach dagster-dbt exactly as from a `dbt` process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SOCKET_ENV = "MESH_DBT_FORKSERVER"  # the server's Unix socket, for the client
# What a `dbt build` on DuckDB imports beyond `dbt.cli.main` (its commands import lazily).
_WARM_MODULES = (
    "dbt.cli.main",
    "dbt.task.build",
    "dbt.parser.manifest",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
)


def _run_child(conn: socket.socket, fds: list[int], request: dict) -> None:
    """In the forked child: become the client's `dbt` process, run the command, report its code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # dbt's own subprocesses must be waitable
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["dbt", *request["args"]]
    # As PYTHONUNBUFFERED does for a `dbt` process: each log line reaches dagster-dbt at once.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # pyright: ignore[reportAttributeAccessIssue]
    conn.sendall(f"{os.getpid()}\n".encode())
    code = 0
    try:
        from dbt.cli.main import cli

        cli(request["args"], prog_name="dbt")
    except SystemExit as exc:  # click's standalone mode ends every command with sys.exit
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)  # never run the server's cleanup in the child


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: the client's stdout/stderr descriptors, then its args, env and cwd as JSON."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            break
        data += more
    return json.loads(data), list(fds)


def serve(path: str) -> None:
    """Import dbt, listen on the Unix socket ``path`` and fork a child per request, forever."""
    for module in _WARM_MODULES:
        __import__(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children report their code to their client
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(16)
        while True:
            conn, _ = server.accept()
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError):
                conn.close()
                continue
            if os.fork() == 0:
                server.close()
                _run_child(conn, fds, request)
            conn.close()
            for fd in fds:
                os.close(fd)


@contextlib.contextmanager
def forkserver(timeout: float = 60.0) -> Iterator[str]:
    """Run a dbt fork server for the duration of the block; its socket is in ``SOCKET_ENV``.

    Processes started (or forked) inside the block inherit the variable, so their dagster-dbt
    resource runs `dbt` through the server (``MeshDbtCli``); afterwards the server is stopped.

    Yields:
        The server's socket path.
    """
    folder = Path(tempfile.mkdtemp(prefix="mesh-dbt-"))
    path = str(folder / "dbt.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesh_platform.dbt.forkserver", path],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches `mesh up`, which stops the server itself
    )
    previous = os.environ.get(SOCKET_ENV)
    os.environ[SOCKET_ENV] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(SOCKET_ENV, None)
        else:
            os.environ[SOCKET_ENV] = previous
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
        with contextlib.suppress(OSError):
            os.unlink(path)
            folder.rmdir()


def wait_ready(path: str, timeout: float = 60.0) -> bool:
    """True once the server at ``path`` accepts connections (False after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(path)
                return True
            except OSError:
                time.sleep(0.05)
    return False


if __name__ == "__main__":
    serve(sys.argv[1])
