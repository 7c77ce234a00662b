"""`mesh new domain|product`: scaffold a domain or a data product that loads and builds at once."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)
new_app = typer.Typer(
    help="Scaffold a domain or a data product; fill in its TODOs (`mesh govern` lists them).",
    no_args_is_help=True,
)


def _report(written: list[Path], what: str) -> None:
    console.print(f"[green]created[/] {what}:", highlight=False)
    for path in written:
        console.print(f"  {escape(str(path))}", highlight=False)


def _run(action, what: str) -> None:
    from mesh_platform.scaffold import ScaffoldError

    try:
        written = action()
    except ScaffoldError as exc:
        err_console.print(f"[red]error[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    _report(written, what)
    console.print("next: fill in every 'TODO:' (`mesh govern` lists them), then `mesh validate`")


@new_app.command("domain")
def domain_cmd(
    name: str = typer.Argument(..., help="The domain's name, lower snake case."),
    team: str = typer.Option(None, help="The owning team's display name."),
    owner: list[str] = typer.Option(None, "--owner", help="team:<name> or an e-mail; repeatable."),
    description: str = typer.Option(None, help="What the domain owns."),
    kind: str = typer.Option(
        "consumer-aligned", help="source-aligned, consumer-aligned, aggregate."
    ),
) -> None:
    """Create domains/NAME (descriptor, defs.yaml, model folders) and its workspace entry."""
    from mesh_platform.scaffold import new_domain
    from mesh_platform.settings import project_root

    root = project_root()
    _run(lambda: new_domain(root, name, team, owner or None, description, kind), f"domain {name}")


@new_app.command("product")
def product_cmd(
    domain: str = typer.Argument(..., help="An existing domain."),
    name: str = typer.Argument(..., help="The product (and its port and dbt model)."),
    source: str = typer.Option(None, "--from", help="The public port it reads: <domain>/<port>."),
    landing: str = typer.Option(None, "--from-landing", help="Or: the landing feed it reads."),
    public: bool = typer.Option(False, "--public", help="Publish publicly, with a contract."),
    columns: str = typer.Option(None, help="Comma-separated columns to carry (default: all)."),
    freshness_hours: float = typer.Option(24, help="The freshness SLO in hours."),
    description: str = typer.Option(None, help="What the product is (else a TODO)."),
) -> None:
    """Create a product reading a public port (or a landing feed): descriptor, dbt model + .yml."""
    from mesh_platform.scaffold import new_product
    from mesh_platform.settings import project_root

    root = project_root()
    if (source is None) == (landing is None):
        err_console.print("[red]error[/] give one of --from DOMAIN/PORT or --from-landing FEED")
        raise typer.Exit(2)
    if landing is not None:
        from mesh_platform.scaffold.landing_product import new_landing_product

        _run(
            lambda: new_landing_product(
                root, domain, name, landing, public, freshness_hours, description
            ),
            f"product {domain}/{name}",
        )
        return
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    _run(
        lambda: new_product(root, domain, name, source, public, cols, freshness_hours, description),
        f"product {domain}/{name}",
    )


def register(app: typer.Typer) -> None:
    """Add the ``new`` command group to the app."""
    app.add_typer(new_app, name="new")
