"""`mesh ui`: Dagster webserver and daemon for the workspace, stopped cleanly on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from mesh_platform.settings import mesh_paths

STOP_GRACE_SECONDS = 30


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_groups(procs: list[subprocess.Popen], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM each child's process group (the code servers it spawned too), SIGKILL stragglers."""
    for proc in procs:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        while time.monotonic() < deadline and _group_alive(proc.pid):
            proc.poll()  # reap the leader so the group can empty
            time.sleep(0.2)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def ui_cmd(
    port: int = typer.Option(3000, help="Port of the webserver."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    mlflow_port: int | None = typer.Option(
        None, "--mlflow-port", help="Also serve MLflow's UI on this port (mesh-platform[ui])."
    ),
) -> None:
    """Start the Dagster UI (webserver + daemon) on 127.0.0.1; Ctrl-C or SIGTERM stops both."""
    from mesh_platform.cli.build import prepare_manifests
    from mesh_platform.orchestration.mesh_up import ensure_instance

    paths = mesh_paths()
    ensure_instance(paths)
    prepare_manifests(
        paths
    )  # once, here: five code servers must not parse the same project at once
    workspace = str(paths.dagster_project / "workspace.yaml")
    commands = [
        [_bin("dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)],
        [_bin("dagster-daemon"), "run", "-w", workspace],
    ]
    # Own process groups: a stop reaches the gRPC code servers they spawn, and nothing outlives us.
    procs = [subprocess.Popen(cmd, start_new_session=True) for cmd in commands]
    if mlflow_port is not None:
        from mesh_platform.cli import mlflow_ui

        try:
            procs.append(mlflow_ui.start(paths, host, mlflow_port))
        except typer.Exit:
            stop_groups(procs)
            raise
        commands.append(["mlflow server"])
    typer.echo(f"Dagster UI on http://{host}:{port} (MESH_HOME={paths.home}); Ctrl-C stops it")
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.5)
    crashed = [(cmd[0], p.returncode) for cmd, p in zip(commands, procs, strict=True) if p.poll()]
    stop_groups(procs)
    if crashed and not stopping:
        typer.echo(f"{crashed[0][0]} exited with {crashed[0][1]}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the UI command to the app."""
    app.command("ui")(ui_cmd)
