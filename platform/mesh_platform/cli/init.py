"""`mesh init [DIR]`: create a new, empty mesh that validates and runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def init_cmd(
    directory: Path = typer.Argument(Path("."), help="The new mesh's root (created if missing)."),
    name: str = typer.Option(None, help="The mesh's name (default: from the folder's name)."),
    description: str = typer.Option(None, help="What the mesh serves (else a TODO)."),
) -> None:
    """Create mesh.yaml, domains/, contracts/ and the Dagster workspace in DIR."""
    # Imported here, as in `mesh new`: jinja2 need not load for every other command's start-up.
    from mesh_platform.scaffold import ScaffoldError
    from mesh_platform.scaffold.mesh import enclosing_mesh, init_mesh

    try:
        written = init_mesh(directory, name, description)
    except ScaffoldError as exc:
        err_console.print(f"[red]error[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    root = directory.resolve()
    console.print(f"[green]created[/] mesh in {escape(str(root))}:", highlight=False)
    for path in written:
        console.print(f"  {escape(str(path))}", highlight=False)
    outer = enclosing_mesh(root)
    if outer is not None:  # allowed (a mesh for tests or a tutorial), but rarely meant
        console.print(f"[yellow]note[/] it sits inside the mesh at {escape(str(outer))}")
    console.print(
        f"next: cd {escape(str(directory))} && mesh new domain NAME --kind source-aligned",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the init command to the app."""
    app.command("init")(init_cmd)
