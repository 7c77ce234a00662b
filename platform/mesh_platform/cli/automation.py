"""`mesh automation start`: turn on every stopped sensor and schedule of a running mesh."""

from __future__ import annotations

import os

import typer

WEBSERVER_ENV = "MESH_DAGSTER_URL"  # orchestration.profile's name; not imported: it loads Dagster
DEFAULT_URL = "http://127.0.0.1:3000"  # `mesh ui`'s webserver

automation_app = typer.Typer(help="The sensors and schedules that make the mesh run itself.")


@automation_app.command("start")
def start_cmd(
    url: str = typer.Option(
        None, help=f"The Dagster webserver (default: ${WEBSERVER_ENV}, else {DEFAULT_URL})."
    ),
) -> None:
    """Start every stopped sensor and schedule, as the UI's Automation page does one by one.

    For a mesh started with MESH_AUTOMATION=off (`mesh stack` does, while its `mesh up` runs).
    """
    from mesh_platform.orchestration.automation_switch import AutomationError, start_automation

    where = url or os.environ.get(WEBSERVER_ENV) or DEFAULT_URL
    try:
        started = start_automation(where.rstrip("/"))
    except AutomationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for item in started:
        typer.echo(f"started {item.kind} {item.location}/{item.name}")
    typer.echo(f"{len(started)} sensor(s) and schedule(s) started at {where}")


def register(app: typer.Typer) -> None:
    """Add ``mesh automation`` to the CLI."""
    app.add_typer(automation_app, name="automation")
