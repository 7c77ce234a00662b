"""`mesh catalog [search TERM]`: discover data products, their owners, contracts and freshness."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console

from mesh_platform.cli.catalog_table import catalog_table
from mesh_platform.cli.inspect import Format
from mesh_platform.settings import mesh_paths

console = Console()
err_console = Console(stderr=True)
catalog_app = typer.Typer(
    help="Discover data products: owner, description, port, contract, freshness.",
    invoke_without_command=True,
)

DomainOpt = typer.Option(None, "--domain", help="Only this domain's products.")
FormatOpt = typer.Option(Format.table, "--format", help="table or json")


def _show(term: str | None, domain: str | None, fmt: Format) -> None:
    from mesh_platform.catalog.listing import catalog

    paths = mesh_paths()
    entries, errors = catalog(paths, domain=domain, term=term)
    for error in errors:  # a broken descriptor keeps its product out: say so, never hide it
        err_console.print(f"[yellow]skipped[/] {error}", highlight=False, soft_wrap=True)
    if fmt is Format.json:
        typer.echo(json.dumps([e.as_dict() for e in entries], indent=2))
        return
    # A pipe or CI log is no terminal: give the table room instead of rich's 80 columns.
    wide = console if console.is_terminal or "COLUMNS" in os.environ else Console(width=260)
    title = "data products" + (f" matching '{term}'" if term else "")
    wide.print(catalog_table(entries, wide.width, title))
    if not entries:
        console.print("no product matches" if term or domain else "no product declared")


@catalog_app.callback()
def catalog_cmd(
    ctx: typer.Context, domain: str | None = DomainOpt, fmt: Format = FormatOpt
) -> None:
    """List every data product's output ports (use `search TERM` to filter)."""
    if ctx.invoked_subcommand is None:
        _show(None, domain, fmt)


@catalog_app.command("search")
def search_cmd(
    term: str = typer.Argument(..., help="Matched in names, descriptions, tags and columns."),
    domain: str | None = DomainOpt,
    fmt: Format = FormatOpt,
) -> None:
    """Products whose name, description, tags or columns contain TERM (case-insensitive)."""
    _show(term, domain, fmt)


def register(app: typer.Typer) -> None:
    """Add `mesh catalog` to the app."""
    app.add_typer(catalog_app, name="catalog")
