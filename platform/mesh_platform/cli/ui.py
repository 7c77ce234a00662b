"""`mesh ui`: Dagster webserver and daemon for the workspace, stopped cleanly on a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import typer

from mesh_platform.settings import mesh_paths


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def ui_cmd(
    port: int = typer.Option(3000, help="Port of the webserver."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
) -> None:
    """Start the Dagster UI (webserver + daemon) on 127.0.0.1; Ctrl-C or SIGTERM stops both."""
    from mesh_platform.orchestrate import ensure_instance

    paths = mesh_paths()
    ensure_instance(paths)
    workspace = str(paths.dagster_project / "workspace.yaml")
    procs = [
        subprocess.Popen([_bin("dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)]),
        subprocess.Popen([_bin("dagster-daemon"), "run", "-w", workspace]),
    ]
    typer.echo(f"Dagster UI on http://{host}:{port} (MESH_HOME={paths.home}); Ctrl-C stops it")

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    for proc in procs:
        try:
            code = code or (proc.wait(timeout=None) if proc.poll() is None else proc.returncode)
        except KeyboardInterrupt:
            stop(None, None)
    for proc in procs:
        proc.wait()
    raise typer.Exit(0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code)


def register(app: typer.Typer) -> None:
    """Add the UI command to the app."""
    app.command("ui")(ui_cmd)
