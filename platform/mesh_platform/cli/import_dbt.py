"""`mesh import dbt`: bring an existing dbt project into the mesh as a domain."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from mesh_platform.settings import MeshPaths

console = Console()
err_console = Console(stderr=True)
import_app = typer.Typer(help="Bring existing projects into the mesh.", no_args_is_help=True)


def draft_contracts(paths: MeshPaths, domain: str, public: list[str]) -> list[Path]:
    """Contracts of the public ports from a scratch build of the imported domain.

    Raises:
        SpecErrors: the scratch build failed (a package, a model).
    """
    from mesh_platform import yamlio
    from mesh_platform.contracts.port_init import dump, model_docs, port_contract
    from mesh_platform.dbt.scratch import scratch_columns

    home = paths.domains / domain
    specs = [yamlio.safe_load(p.read_text()) for p in sorted(home.glob("products/*.yaml"))]
    inputs = [port for spec in specs for port in spec["input_ports"] if port["kind"] == "landing"]
    columns = scratch_columns(home / "dbt", domain, paths.landing, inputs, public)
    written = []
    for model, cols in columns.items():
        contract = port_contract(domain, model, cols, model_docs(home / "dbt" / "models", model))
        path = paths.contracts / domain / f"{model}.odcs.yaml"
        header = f"Data contract of the output port {domain}/{model}, drafted by `mesh import dbt`."
        path.write_text(dump(contract, header), encoding="utf-8")
        written.append(path.relative_to(paths.root))
    return written


@import_app.command("dbt")
def dbt_cmd(
    path: Path = typer.Argument(..., help="The dbt project folder (with dbt_project.yml)."),
    domain: str = typer.Option(..., help="The new domain's name, lower snake case."),
    public: list[str] = typer.Option(None, "--public", help="A model to publish; repeatable."),
    owner: list[str] = typer.Option(None, "--owner", help="team:<name> or an e-mail; repeatable."),
    build: bool = typer.Option(True, help="Draft public contracts from a scratch dbt build."),
) -> None:
    """Turn a dbt project into domains/DOMAIN: descriptors, landing feeds, the dbt files."""
    from mesh_platform.descriptors.errors import SpecErrors
    from mesh_platform.scaffold import ScaffoldError
    from mesh_platform.scaffold.import_dbt import import_dbt
    from mesh_platform.settings import mesh_paths

    paths = mesh_paths()
    try:
        done = import_dbt(paths.root, paths.landing, path, domain, public or [], owner or None)
    except ScaffoldError as exc:
        err_console.print(f"[red]error[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if build and public:
        try:
            done.written += draft_contracts(paths, domain, public)
            done.next_steps = [s for s in done.next_steps if "mesh contracts init" not in s]
        except SpecErrors as exc:  # the import stands; the contracts wait for the first build
            done.next_steps.append(f"contracts not drafted: {exc.errors[0]}")
    console.print(f"[green]imported[/] {escape(str(path))} as domain {domain}:", highlight=False)
    for file in [*done.written, *done.landed]:
        console.print(f"  {escape(str(file))}", highlight=False)
    console.print("next:", highlight=False)
    for step in [*done.next_steps, "decide every 'TODO(decide)' (`mesh govern` lists them)"]:
        console.print(f"  - {escape(step)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``import`` command group to the app."""
    app.add_typer(import_app, name="import")
