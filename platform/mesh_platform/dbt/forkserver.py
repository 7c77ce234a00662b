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
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

SOCKET_ENV = "MESH_DBT_FORKSERVER"  # the server's Unix socket, for the client
# What a `dbt build` on DuckDB imports beyond `dbt.cli.main` (its commands import lazily).
_WARM_MODULES = (
    "dbt.cli.main",
    "dbt.task.build",
    "dbt.parser.manifest",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
)


def _become_client(fds: list[int], request: dict) -> None:
    """Take the client's stdout/stderr, working directory, environment and argv."""
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


def _run_child(conn: socket.socket, fds: list[int], request: dict) -> NoReturn:
    """In the forked child: become the client's `dbt` process, run the command, report its code.

    The first line to the client is the child's pid (its signals go there), the last the exit
    code; the child never returns into the server's loop, whatever happens.
    """
    code = 2  # dbt's own code for an error that is not a failed node
    try:
        conn.sendall(f"{os.getpid()}\n".encode())
        _become_client(fds, request)
        from dbt.cli.main import cli

        cli(request["args"], prog_name="dbt")
        code = 0
    except SystemExit as exc:  # click's standalone mode ends every command with sys.exit
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 - e.g. a working directory that is gone
        with contextlib.suppress(OSError):
            os.write(2, f"mesh-dbt: cannot run dbt: {exc}\n".encode())
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)  # never run the server's cleanup in the child


def _checked(data: bytes, fds: list[int]) -> dict:
    """The request if it has the client's two descriptors and args, env and cwd; else ValueError."""
    try:
        request = json.loads(data)
    except ValueError:
        request = None
    if len(fds) != 2 or not isinstance(request, dict):
        raise ValueError("a request is the client's stdout and stderr and one JSON object")
    args, env, cwd = request.get("args"), request.get("env"), request.get("cwd")
    if not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
        raise ValueError("'args' must be a list of strings")
    if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
        raise ValueError("'env' must map names to strings")
    if not isinstance(cwd, str):
        raise ValueError("'cwd' must be a path")
    return request


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: the client's stdout/stderr descriptors, then its args, env and cwd as JSON.

    Raises:
        ValueError: a malformed request (its descriptors are closed, the client is told why).
    """
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
    while data and not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            break
        data += more
    try:
        return _checked(data, list(fds)), list(fds)
    except ValueError as exc:
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            conn.sendall(f"refused: {exc}\n".encode())
        raise


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


if __name__ == "__main__":
    serve(sys.argv[1])
