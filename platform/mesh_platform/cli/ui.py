"""`mesh ui`: a code server per location, the webserver and daemon on them, one stop for all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import typer

from mesh_platform.cli.ui_state import (
    new_state,
    reload_in_webserver,
    server_entry,
    state_file,
    take_requests,
    write_state,
)
from mesh_platform.orchestration.code_server_fork import ForkServer
from mesh_platform.orchestration.code_servers import (
    SERVER_KINDS,
    CodeServer,
    CodeServerError,
    Location,
    Process,
    free_port,
    read_locations,
    start_server,
    wait_all_ready,
    write_workspace,
)
from mesh_platform.settings import MeshPaths, mesh_paths
from mesh_platform.stack.procs import stop_groups as stop_all

STOP_GRACE_SECONDS = 30


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def stop_groups(procs: Sequence[Process], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM each child's process group (the code servers it spawned too), SIGKILL stragglers."""
    stop_all(procs, grace)


def prepare() -> None:
    """Create the instance and parse stale dbt manifests once, before any code server starts."""
    from mesh_platform.cli.build import prepare_manifests
    from mesh_platform.orchestration.mesh_up import ensure_instance

    paths = mesh_paths()
    ensure_instance(paths)
    prepare_manifests(paths)  # once, here: the code servers must not parse the same project at once


LOOPBACK = "127.0.0.1"  # code servers listen on loopback only, whatever --host says


class _Session:
    """What `mesh ui` runs: code servers, webserver, daemon (and MLflow), stopped together."""

    def __init__(self, paths: MeshPaths, kind: str) -> None:
        self.paths, self.kind = paths, kind
        self.servers: list[CodeServer] = []
        self.others: list[tuple[str, subprocess.Popen]] = []
        self.forker: ForkServer | None = None
        self.signals: list[int] = []
        self.state: dict = {}

    def procs(self) -> list[Process]:
        """Every child, code servers first, the fork server (if any) last."""
        forker: list[Process] = [self.forker.proc] if self.forker else []
        return [s.proc for s in self.servers] + [p for _, p in self.others] + forker

    def start_servers(self) -> None:
        """One code server per location of workspace.yaml, each on a free loopback port."""
        workspace = self.paths.dagster_project / "workspace.yaml"
        logs = self.paths.home / "logs"
        locations = read_locations(workspace)
        if self.kind == "fork":
            modules = sorted({loc.module for loc in locations})
            self.forker = ForkServer(modules, logs / "code-server-fork.log")
        for location in locations:
            self.servers.append(self._start(location, free_port(LOOPBACK)))

    def _start(self, location: Location, port: int) -> CodeServer:
        spawn = self.forker.spawn if self.forker else None
        logs = self.paths.home / "logs"
        return start_server(location, port, logs, LOOPBACK, self.kind, spawn)

    def start(self, name: str, cmd: list[str]) -> None:
        """Start a child in its own process group: a stop reaches whatever it spawns."""
        self.others.append((name, subprocess.Popen(cmd, start_new_session=True)))

    def crashed(self) -> tuple[str, int] | None:
        """(name, exit code) of a child that exited, if one did."""
        named: list[tuple[str, Process]] = [(s.location.name, s.proc) for s in self.servers]
        named += self.others
        return next(((n, code) for n, p in named if (code := p.poll()) is not None), None)

    def reload(self) -> None:
        """Restart the code server of each requested location; the others are left alone."""
        for name, token in take_requests(self.paths).items():
            self.state["reloads"][name] = {"token": token, **self._restart(name)}
            write_state(self.paths, self.state)

    def _restart(self, name: str) -> dict:
        index = next((i for i, s in enumerate(self.servers) if s.location.name == name), None)
        if index is None:
            return {"status": "unknown location"}
        old = self.servers[index]
        stop_groups([old.proc])
        new = self._start(old.location, old.port)
        self.servers[index] = new
        self.state["servers"][name] = server_entry(new)
        try:
            wait_all_ready([new], LOOPBACK, stopped=lambda: bool(self.signals))
        except CodeServerError as exc:
            return {"status": "failed", "error": str(exc)}
        return {"status": reload_in_webserver(self.state["webserver"], name)}


def ui_cmd(
    port: int = typer.Option(3000, help="Port of the webserver."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    mlflow_port: int | None = typer.Option(
        None, "--mlflow-port", help="Also serve MLflow's UI on this port (mesh-platform[ui])."
    ),
    server: str = typer.Option(
        "fork",
        help="Code server per location: fork (`dagster api grpc` forked from one process that "
        "imported the libraries once: least memory and CPU), grpc (a fresh `dagster api grpc` "
        "each) or code-server (`dagster code-server start`: the UI's Reload reloads in place).",
    ),  # fmt: skip
) -> None:
    """Start the Dagster UI: one code server per location, webserver and daemon sharing them.

    Ctrl-C or SIGTERM stops everything; `mesh reload LOCATION` restarts one location's server.
    """
    if server not in SERVER_KINDS:
        raise typer.BadParameter(f"one of {', '.join(SERVER_KINDS)}", param_hint="--server")
    paths = mesh_paths()
    # In a child: this process stays at 91 MiB RSS idle (bench_ui), 166 MiB when it prepared itself.
    subprocess.run([sys.executable, "-c", f"from {__name__} import prepare; prepare()"], check=True)
    session = _Session(paths, server)
    signal.signal(signal.SIGTERM, lambda signum, frame: session.signals.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: session.signals.append(signum))
    try:
        if _serve(session, host, port, mlflow_port):
            _loop(session)
    finally:
        stop_groups(session.procs())
        state_file(paths).unlink(missing_ok=True)
    failed = session.crashed()
    if failed and not session.signals:
        typer.echo(f"{failed[0]} exited with {failed[1]}", err=True)
        raise typer.Exit(1)


def _serve(session: _Session, host: str, port: int, mlflow_port: int | None) -> bool:
    """Start the servers, wait for them, then the webserver and daemon; False if stopped."""
    paths = session.paths
    try:
        session.start_servers()
        if not wait_all_ready(session.servers, LOOPBACK, stopped=lambda: bool(session.signals)):
            return False
    except CodeServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    generated = write_workspace(paths.dagster_home / "workspace.yaml", session.servers, LOOPBACK)
    workspace = str(generated)
    web = [_bin("dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)]
    session.start("dagster-webserver", web)
    session.start("dagster-daemon", [_bin("dagster-daemon"), "run", "-w", workspace])
    if mlflow_port is not None:
        from mesh_platform.cli import mlflow_ui

        session.others.append(("mlflow server", mlflow_ui.start(paths, host, mlflow_port)))
    web = {"host": host, "port": port, "pid": session.others[0][1].pid}
    session.state = new_state(web, session.servers)
    write_state(paths, session.state)
    typer.echo(f"Dagster UI on http://{host}:{port} (MESH_HOME={paths.home}); Ctrl-C stops it")
    return True


def _loop(session: _Session) -> None:
    """Until a signal or a crash: serve reload requests as `mesh reload` leaves them."""
    while not session.signals and session.crashed() is None:
        session.reload()
        time.sleep(0.5)


def register(app: typer.Typer) -> None:
    """Add the UI command to the app."""
    app.command("ui")(ui_cmd)
