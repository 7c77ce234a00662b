"""`mesh stack`: the distributed profile started here, the mesh run through it, stopped on exit."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.cli.automation import WEBSERVER_ENV
from mesh_platform.settings import mesh_paths

if TYPE_CHECKING:  # the launcher imports Dagster: not at every `mesh` start (`mesh validate`)
    from mesh_platform.stack.launcher import Stack

console = Console()
# A log is no terminal: room for the endpoints instead of rich's 80 columns.
wide = console if console.is_terminal else Console(width=160)


def _stop_on_signals() -> None:
    """SIGTERM and SIGINT unwind as Ctrl-C does: the stack stops every service it started.

    SIGINT too: a process started in the background by a non-interactive shell inherits SIGINT
    ignored, and Python then leaves it ignored.
    """

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _prepare() -> None:
    """Create the instance (on PostgreSQL) and parse stale dbt manifests, once."""
    from mesh_platform.cli.build import prepare_manifests
    from mesh_platform.orchestration.mesh_up import ensure_instance

    paths = mesh_paths()
    ensure_instance(paths)
    prepare_manifests(paths)


def _serve(stack: Stack, replicas: int) -> None:
    """Serve behind HAProxy; a mesh with nothing to serve yet (no champion) is said, not fatal."""
    try:
        stack.serve(replicas)
    except RuntimeError as exc:
        console.print(f"[yellow]not serving[/] {exc}", highlight=False, soft_wrap=True)


def _go_live(stack: Stack) -> None:
    """Start the sensors and schedules `mesh up` ran without: from now on the mesh runs itself."""
    from mesh_platform.orchestration.automation_switch import start_automation

    started = start_automation(stack.env[WEBSERVER_ENV])  # AutomationError is a RuntimeError
    console.print(f"automation on: {len(started)} sensor(s) and schedule(s) started")


def _print_services(stack: Stack) -> None:
    table = Table(title="mesh stack (distributed profile)", title_justify="left")
    for column in ("service", "listens on", "pid"):
        table.add_column(column)
    for service in stack.services:
        table.add_row(service.name, service.where, ",".join(map(str, service.pids)))
    wide.print(table)
    console.print(f"endpoints for another shell: set -a; . {stack.env_file}", highlight=False)


def stack_cmd(
    scale: float = typer.Option(None, help="Scale of the demo data (`mesh up --scale`)."),
    up: bool = typer.Option(True, "--up/--no-up", help="Run `mesh up` through the run queue."),
    replicas: int = typer.Option(2, min=0, help="Serving replicas behind HAProxy (0: none)."),
    workers: int = typer.Option(2, min=1, help="Celery workers that execute the steps."),
    port: int = typer.Option(0, help="Port of the Dagster webserver (0: a free one)."),
    automation: bool = typer.Option(
        False, help="Sensors and schedules on from the start (off: `mesh up` drives the runs)."
    ),
    live: bool = typer.Option(
        True, "--live/--no-live", help="Once `mesh up` is done, start the sensors and schedules."
    ),
    wait: bool = typer.Option(True, "--wait/--exit", help="Keep serving until Ctrl-C, or exit."),
) -> None:
    """Start PostgreSQL, Redis, NATS, S3, Celery workers, code servers, daemon and webserver.

    All on free loopback ports, the mesh's state under MESH_HOME; then run `mesh up` through the
    daemon's queue and serve behind HAProxy. Ctrl-C or SIGTERM stops everything it started.
    """
    from mesh_platform.stack.launcher import Stack

    paths = mesh_paths()
    _stop_on_signals()
    started = time.perf_counter()
    code = 0
    try:
        with Stack(paths, workers=workers, automation=automation) as stack:
            stack.start(_prepare, port)
            console.print(f"stack up in {time.perf_counter() - started:.1f}s", highlight=False)
            if up:
                code = stack.run("up", *(["--scale", str(scale)] if scale else []))
            if live and not automation:
                _go_live(stack)
            if replicas:
                _serve(stack, replicas)
            _print_services(stack)
            if wait:  # a failed domain too: its runs and logs are there to look at
                console.print("Ctrl-C stops every service")
                while True:
                    time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopped")
    except RuntimeError as exc:
        console.print(f"[red]error[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``mesh stack`` to the CLI."""
    app.command("stack")(stack_cmd)
