"""One long-lived gRPC code server per workspace location, shared by the webserver and daemon."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

# `dagster api grpc`: one process per location. `dagster code-server start` adds a proxy process
# (97 MiB RSS more per location, bench/README.md) that can reload its code in place.
# "fork": `dagster api grpc` in children of one process that imported the libraries once.
SERVER_KINDS = {
    "grpc": ("api", "grpc"),
    "code-server": ("code-server", "start"),
    "fork": ("api", "grpc"),
}
READY_TIMEOUT_SECONDS = 300.0


class CodeServerError(RuntimeError):
    """A code server did not start or did not load its location."""


@dataclass(frozen=True)
class Location:
    """One ``python_module`` entry of workspace.yaml."""

    name: str
    module: str
    attribute: str | None
    working_directory: Path


class Process(Protocol):
    """What is used of a code server's process: a Popen, or a forked child's handle."""

    pid: int

    def poll(self) -> int | None: ...  # noqa: D102

    def wait(self, timeout: float | None = None) -> int: ...  # noqa: D102

    @property
    def returncode(self) -> int | None: ...  # noqa: D102


# Forks `dagster api grpc ARGS` with output to a log in a working directory (code_server_fork).
Spawn = Callable[[list[str], Path, Path], Process]


@dataclass
class CodeServer:
    """A running code server: its location, port, process and log file."""

    location: Location
    port: int
    proc: Process
    log: Path


def read_locations(workspace: Path) -> list[Location]:
    """The ``python_module`` locations of a workspace.yaml, working directories resolved.

    Raises:
        CodeServerError: an entry is not a ``python_module`` one (nothing else is served).

    """
    data = yaml.safe_load(workspace.read_text(encoding="utf-8")) or {}
    found = []
    for entry in data.get("load_from") or []:
        spec = entry.get("python_module") if isinstance(entry, dict) else None
        if spec is None:
            raise CodeServerError(f"{workspace}: only python_module entries are served: {entry}")
        if isinstance(spec, str):
            spec = {"module_name": spec}
        folder = (workspace.parent / spec.get("working_directory", ".")).resolve()
        module = spec["module_name"]
        found.append(
            Location(spec.get("location_name", module), module, spec.get("attribute"), folder)
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def server_command(location: Location, port: int, host: str, kind: str = "grpc") -> list[str]:
    """The dagster command serving ``location`` on ``host:port``."""
    cmd = [str(Path(sys.executable).with_name("dagster")), *SERVER_KINDS[kind]]
    cmd += ["-m", location.module, "-d", str(location.working_directory)]
    if location.attribute:
        cmd += ["-a", location.attribute]
    if kind != "code-server":  # a load error is served (shown in the UI), not an exit of the server
        cmd.append("--lazy-load-user-code")
    return [*cmd, "--location-name", location.name, "-h", host, "-p", str(port)]


def start_server(
    location: Location,
    port: int,
    logs: Path,
    host: str = "127.0.0.1",
    kind: str = "grpc",
    spawn: Spawn | None = None,
) -> CodeServer:
    """Start one code server in its own process group, output to ``logs``/code-server-NAME.log.

    With ``spawn`` (kind "fork"), it is forked by a fork server instead of started afresh.
    """
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"code-server-{location.name}.log"
    if spawn is not None:
        args = server_command(location, port, host, kind)[3:]  # after `dagster api grpc`
        return CodeServer(location, port, spawn(args, log, location.working_directory), log)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            server_command(location, port, host, kind), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=location.working_directory, start_new_session=True,
        )  # fmt: skip
    return CodeServer(location, port, proc, log)


def load_error(host: str, port: int) -> str | None:
    """None once the server at ``host:port`` serves its definitions; else why not (yet).

    Raises:
        CodeServerError: the server answers with the error its code raised on load.

    """
    from dagster._grpc.client import DagsterGrpcClient
    from dagster_shared.error import SerializableErrorInfo
    from dagster_shared.serdes import deserialize_value

    try:
        answer = deserialize_value(DagsterGrpcClient(port=port, host=host).list_repositories())
    except Exception as exc:  # noqa: BLE001 - not listening yet, or still loading
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(answer, SerializableErrorInfo):
        raise CodeServerError(answer.to_string())
    return None


def _tail(log: Path, lines: int = 8) -> str:
    """The last lines of a log (where a failed load's exception ends)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _check(server: CodeServer, host: str) -> bool:
    """True once ``server`` serves its definitions; raises when it exited or failed to load."""
    name, log = server.location.name, server.log
    if server.proc.poll() is not None:
        raise CodeServerError(f"location '{name}' failed to load: its code server exited with "
                              f"{server.proc.returncode} (log: {log}):\n{_tail(log)}")  # fmt: skip
    try:
        return load_error(host, server.port) is None
    except CodeServerError as exc:
        raise CodeServerError(f"location '{name}' failed to load (log: {log}):\n{exc}") from None


def wait_all_ready(
    servers: list[CodeServer],
    host: str,
    timeout: float = READY_TIMEOUT_SECONDS,
    stopped: Callable[[], bool] = lambda: False,
) -> bool:
    """Poll every server together until all serve their definitions; False if ``stopped()``.

    Raises:
        CodeServerError: one exited, failed to load, or took longer than ``timeout``; the message
            names the location and its log file.

    """
    deadline = time.monotonic() + timeout
    pending = list(servers)
    while pending:
        if stopped():
            return False
        pending = [s for s in pending if not _check(s, host)]
        if pending and time.monotonic() > deadline:
            late = ", ".join(f"'{s.location.name}' (log: {s.log})" for s in pending)
            raise CodeServerError(f"locations not loaded after {timeout:.0f}s: {late}")
        time.sleep(0.25 if pending else 0)
    return True


def write_workspace(path: Path, servers: list[CodeServer], host: str) -> Path:
    """Write a workspace.yaml of ``grpc_server`` entries, one per running server."""
    entries = [
        {"grpc_server": {"host": host, "port": s.port, "location_name": s.location.name}}
        for s in servers
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Generated by `mesh ui` from dagster_project/workspace.yaml: do not edit.\n"
    path.write_text(header + yaml.safe_dump({"load_from": entries}, sort_keys=False))
    return path
