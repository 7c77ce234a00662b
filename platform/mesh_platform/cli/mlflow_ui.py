"""`mesh mlflow ui`: MLflow's UI on the mesh's tracking store and registry, on 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import typer

from mesh_platform.settings import MeshPaths, mesh_paths

mlflow_app = typer.Typer(help="MLflow: the UI of the mesh's runs and registered models.",
                         no_args_is_help=True)  # fmt: skip
DEFAULT_PORT = 5000
NEEDS_FULL = (
    "mesh mlflow ui needs the full mlflow (its server and UI), not only mlflow-skinny: "
    "install mesh-platform[ui] (e.g. uv add 'mesh-platform[ui]')"
)


def full_mlflow_installed() -> bool:
    """Whether the `mlflow` distribution (server + UI) is installed, not only mlflow-skinny."""
    try:
        metadata.version("mlflow")
    except metadata.PackageNotFoundError:
        return False
    return True


def free_port(host: str, port: int) -> int:
    """``port`` if nothing listens on it (0: any free port); raises OSError when it is taken."""
    with socket.socket() as sock:
        sock.bind((host, port))
        return sock.getsockname()[1]


def server_command(paths: MeshPaths, host: str, port: int) -> list[str]:
    """The `mlflow server` command serving the mesh's store (created if it does not exist yet)."""
    from mesh_platform.ml import tracking

    root = paths.registry
    tracking.client(root)  # the embedded store exists before the server migrates or reads it
    command = [str(Path(sys.executable).with_name("mlflow")), "server",
               "--backend-store-uri", tracking.tracking_uri(root),
               "--registry-store-uri", tracking.registry_uri(root),
               "--host", host, "--port", str(port), "--workers", "1"]  # fmt: skip
    if artifacts := tracking.artifact_root(root):
        command += ["--default-artifact-root", artifacts]
    return command


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def start(paths: MeshPaths, host: str, port: int) -> subprocess.Popen:
    """Start the MLflow server in its own process group (see `ui.stop_groups`)."""
    if not full_mlflow_installed():
        raise _fail(NEEDS_FULL)
    try:
        port = free_port(host, port)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port} ({exc.strerror}): pass --port") from None
    proc = subprocess.Popen(server_command(paths, host, port), start_new_session=True)
    typer.echo(f"MLflow UI on http://{host}:{port} (store: {paths.registry})")
    return proc


@mlflow_app.command("ui")
def ui_cmd(
    port: int = typer.Option(DEFAULT_PORT, help="Port of the MLflow UI (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
) -> None:
    """Serve MLflow's UI on the mesh's runs and registry; Ctrl-C or SIGTERM stops it."""
    from mesh_platform.cli.ui import stop_groups

    proc = start(mesh_paths(), host, port)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    while not stopping and proc.poll() is None:
        time.sleep(0.5)
    code = proc.poll()
    stop_groups([proc])
    if code and not stopping:
        typer.echo(f"mlflow server exited with {code}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `mlflow` sub-command group to the app."""
    app.add_typer(mlflow_app, name="mlflow")
