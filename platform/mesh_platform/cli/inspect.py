"""`mesh validate` and `mesh ports`: check descriptors, list what is published."""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.settings import mesh_paths

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    """Output formats of listing commands."""

    table = "table"
    json = "json"


def validate_cmd() -> None:
    """Validate every descriptor and contract, and their agreement with dbt; exit 2 on any error."""
    from mesh_platform.contracts.conformance import validate_mesh

    domains, errors = validate_mesh(mesh_paths().root)
    for error in errors:
        err_console.print(f"[red]error[/] {error}", highlight=False, soft_wrap=True)
    if errors:
        err_console.print(f"{len(errors)} error(s) in the mesh's descriptors")
        raise typer.Exit(2)
    products = sum(len(d.products) for d in domains.values())
    console.print(f"[green]valid[/]: {len(domains)} domains, {products} products")


def ports_cmd(fmt: Format = typer.Option(Format.table, "--format", help="table or json")) -> None:
    """List every published output port: its Iceberg table and current snapshot.

    The JSON form is ``{"catalog": ..., "ports": [...]}``: the catalog's configuration (secrets
    masked) is what another engine needs to read the same tables.
    """
    from mesh_platform.ports import list_ports
    from mesh_platform.ports.lakehouse import describe

    paths = mesh_paths()
    snapshots = list_ports(paths.home)
    rows = [
        {"domain": s.domain, "product": s.product, "version": s.version, "table": s.table,
         "path": s.path, "rows": s.rows, "published_at": s.published_at,
         "snapshot_id": s.snapshot_id}
        for s in snapshots
    ]  # fmt: skip
    catalog = describe(paths.home)
    if fmt is Format.json:
        typer.echo(json.dumps({"catalog": catalog, "ports": rows}, indent=2))
        return
    table = Table(title=f"output ports: Iceberg catalog {catalog['uri']}")
    for col in ("table", "version", "rows", "published_at", "snapshot_id"):
        table.add_column(col, no_wrap=True)  # an identifier is copied whole, never folded
    for r in rows:
        table.add_row(r["table"], f"v{r['version']}", f"{r['rows']:,}", r["published_at"],
                      r["snapshot_id"])  # fmt: skip
    console.print(table)
    if not rows:
        console.print("no port published yet: run `mesh up`")


def register(app: typer.Typer) -> None:
    """Add the inspection commands to the app."""
    app.command("validate")(validate_cmd)
    app.command("ports")(ports_cmd)
