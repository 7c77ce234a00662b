"""`mesh reload LOCATION`: restart one code server of a running `mesh ui` with the code on disk."""

from __future__ import annotations

import time
import uuid

import typer

from mesh_platform.cli.ui_state import put_request, read_state
from mesh_platform.settings import mesh_paths

RELOAD_TIMEOUT_SECONDS = 300.0


def reload_cmd(
    location: str = typer.Argument(..., help="Code location to restart (workspace.yaml's name)."),
    timeout: float = typer.Option(RELOAD_TIMEOUT_SECONDS, help="Seconds to wait for it."),
) -> None:
    """Restart one location's code server; the other servers, webserver and daemon keep running."""
    paths = mesh_paths()
    state = read_state(paths)
    if state is None:
        typer.echo(f"error: no `mesh ui` runs on MESH_HOME={paths.home}", err=True)
        raise typer.Exit(2)
    if location not in state["servers"]:
        known = ", ".join(sorted(state["servers"]))
        typer.echo(f"error: no code location '{location}' (known: {known})", err=True)
        raise typer.Exit(2)
    token = uuid.uuid4().hex
    put_request(paths, location, token)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = read_state(paths)
        if state is None:
            typer.echo("error: `mesh ui` stopped before the reload finished", err=True)
            raise typer.Exit(1)
        done = state["reloads"].get(location, {})
        if done.get("token") == token:
            _report(location, done, time.monotonic() - started)
            return
        time.sleep(0.3)
    typer.echo(f"error: '{location}' not reloaded after {timeout:.0f}s", err=True)
    raise typer.Exit(1)


def _report(location: str, done: dict, seconds: float) -> None:
    if done["status"] != "LOADED":
        why = done.get("error") or done["status"]
        typer.echo(f"error: reload of '{location}': {why}", err=True)
        raise typer.Exit(1)
    typer.echo(f"reloaded '{location}' in {seconds:.1f}s")


def register(app: typer.Typer) -> None:
    """Add the reload command to the app."""
    app.command("reload")(reload_cmd)
