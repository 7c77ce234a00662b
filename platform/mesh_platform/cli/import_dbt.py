"""`mesh import dbt`: bring an existing dbt project into the mesh as a domain."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)
import_app = typer.Typer(help="Bring existing projects into the mesh.", no_args_is_help=True)


@import_app.command("dbt")
def dbt_cmd(
    path: Path = typer.Argument(..., help="The dbt project folder (with dbt_project.yml)."),
    domain: str = typer.Option(..., help="The new domain's name, lower snake case."),
    public: list[str] = typer.Option(None, "--public", help="A model to publish; repeatable."),
    owner: list[str] = typer.Option(None, "--owner", help="team:<name> or an e-mail; repeatable."),
) -> None:
    """Turn a dbt project into domains/DOMAIN: descriptors, landing feeds, the dbt files."""
    from mesh_platform.scaffold import ScaffoldError
    from mesh_platform.scaffold.import_dbt import import_dbt
    from mesh_platform.settings import mesh_paths

    paths = mesh_paths()
    try:
        done = import_dbt(paths.root, paths.landing, path, domain, public or [], owner or None)
    except ScaffoldError as exc:
        err_console.print(f"[red]error[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"[green]imported[/] {escape(str(path))} as domain {domain}:", highlight=False)
    for file in [*done.written, *done.landed]:
        console.print(f"  {escape(str(file))}", highlight=False)
    console.print("next:", highlight=False)
    for step in [*done.next_steps, "decide every 'TODO(decide)' (`mesh govern` lists them)"]:
        console.print(f"  - {escape(step)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``import`` command group to the app."""
    app.add_typer(import_app, name="import")
