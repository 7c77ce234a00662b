"""`mesh lineage serve` and `mesh lineage flush`: the lineage HTTP API and the delivery outbox."""

from __future__ import annotations

import typer
from rich.console import Console

from mesh_platform.cli.api_auth import INSECURE_HELP, checked_auth
from mesh_platform.settings import mesh_paths

console = Console()
err_console = Console(stderr=True)


def serve_cmd(
    host: str = typer.Option(
        "127.0.0.1", help="Interface to listen on; beyond loopback MESH_LINEAGE_TOKEN is required."
    ),
    port: int = typer.Option(5000, help="Port (Marquez's default is 5000)."),
    insecure: bool = typer.Option(False, "--insecure", help=INSECURE_HELP),
) -> None:
    """Serve a Marquez-compatible OpenLineage API over the mesh's lineage log.

    Exit 2 when --host is not loopback and no token is configured (README, "Lineage").
    """
    from mesh_platform.access.tokens import LINEAGE
    from mesh_platform.lineage.server import serve

    auth = checked_auth(LINEAGE, host, insecure)
    paths = mesh_paths()
    console.print(
        f"lineage API on http://{host}:{port}/api/v1/lineage over {paths.lineage}", highlight=False
    )
    if auth.token is not None:
        what = "posting and graph reads" if auth.protect_reads else "posting"
        console.print(f"{what} require the bearer token of {auth.source}", highlight=False)
    serve(paths, host=host, port=port, auth=auth)


def flush_cmd() -> None:
    """Send the events waiting in the outbox to the configured OpenLineage backend.

    Exits 1 while events remain (backend still unreachable), so schedulers can retry.
    """
    from mesh_platform.lineage.delivery import configured_transport, flush

    paths = mesh_paths()
    try:
        transport = configured_transport()
    except ValueError as exc:
        err_console.print(f"[red]error[/] OpenLineage configuration: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if transport is None:
        console.print("no OpenLineage transport configured: events stay in the local log only")
    delivered, remaining = flush(paths)
    console.print(f"delivered {delivered} event(s), {remaining} waiting in the outbox")
    if remaining:
        raise typer.Exit(1)


def register(lineage_app: typer.Typer) -> None:
    """Add ``serve`` and ``flush`` to the ``mesh lineage`` sub-command."""
    lineage_app.command("serve")(serve_cmd)
    lineage_app.command("flush")(flush_cmd)
