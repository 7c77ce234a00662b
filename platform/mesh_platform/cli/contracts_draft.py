"""`mesh contracts infer` and `mesh contracts init`: draft contracts from what DuckDB sees."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from mesh_platform.descriptors.errors import SpecError, SpecErrors

console = Console()
err_console = Console(stderr=True)
NEXT = "next: decide every 'TODO(decide)' (`mesh govern` lists them), then `mesh validate`"


def _fail(errors: list[SpecError]) -> None:
    for error in errors:
        err_console.print(f"[red]error[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _emit(text: str, output: Path | None, force: bool) -> None:
    """Print ``text``, or write it to ``output`` (refusing to overwrite without ``force``)."""
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
        return
    if output.exists() and not force:
        _fail([SpecError(output, "", "exists already: pass --force to overwrite it")])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.print(f"[green]wrote[/] {escape(str(output))}", highlight=False)


def infer_cmd(
    file: Path = typer.Argument(..., help="A CSV, Parquet or JSON(L) file."),
    domain: str = typer.Option(None, help="Owning domain (default: the file's folder name)."),
    name: str = typer.Option(None, help="Source entity (default: the file's name)."),
    location: str = typer.Option(None, help="Landing glob (default: <domain>/<file name>)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    force: bool = typer.Option(False, help="Overwrite --output if it exists."),
) -> None:
    """Infer a source contract from a file by DuckDB's own type detection."""
    from mesh_platform.contracts.infer import source_contract
    from mesh_platform.contracts.port_init import dump
    from mesh_platform.scaffold.import_feeds import snake

    domain = domain or snake(file.resolve().parent.name)
    name = name or snake(file.name.split(".")[0])
    try:
        contract = source_contract(file, domain, name, location or f"{domain}/{file.name}")
    except SpecErrors as exc:
        _fail(exc.errors)
        return
    header = f"Source contract of {name} in the {domain} domain, inferred from {file.name}."
    _emit(dump(contract, header), output, force)


def init_cmd(
    ref: str = typer.Argument(..., help="DOMAIN/MODEL: a built dbt model of a domain."),
    output: Path = typer.Option(None, "--output", "-o", help="Default contracts/<d>/<port>."),
    force: bool = typer.Option(False, help="Overwrite the contract if it exists."),
) -> None:
    """Draft an output port's contract from the built model's types and its dbt docs."""
    from mesh_platform.contracts.port_init import draft_port_contract, dump
    from mesh_platform.descriptors.loader import load_mesh
    from mesh_platform.settings import mesh_paths

    paths = mesh_paths()
    domain, _, model = ref.partition("/")
    domains, _ = load_mesh(paths.domains)
    if domain not in domains or not model:
        _fail([SpecError(paths.domains, "", f"'{ref}': no domain '{domain}' (use DOMAIN/MODEL)")])
    home = domains[domain]
    found = [(prod, p) for prod in home.products.values() for p in prod.output_ports
             if p.model == model]  # fmt: skip
    product, port = max(found, key=lambda f: f[1].version) if found else (None, None)
    name, version = (port.name, port.version) if port else (model, 1)
    # Freshness lives in the contract; a descriptor's optional copy seeds the draft, else 24 h.
    hours = (product.slos.freshness_hours if product else None) or 24
    models_dir = home.dbt_dir / "models" if (home.dbt_dir / "models").is_dir() else home.path
    try:
        contract = draft_port_contract(
            paths.warehouse_file(domain), models_dir, domain, model, name,
            freshness_hours=int(hours) if hours == int(hours) else hours, version=version,
        )  # fmt: skip
    except SpecErrors as exc:
        _fail(exc.errors)
        return
    header = f"Data contract of the output port {domain}/{name}, drafted by `mesh contracts init`."
    _emit(dump(contract, header), output or paths.contracts / domain / f"{name}.odcs.yaml", force)
    err_console.print(NEXT, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``infer`` and ``init`` to the ``contracts`` command group."""
    app.command("infer")(infer_cmd)
    app.command("init")(init_cmd)
