"""`mesh generate`, `mesh prepare` and `mesh up`: make data, prepare dbt, build the mesh."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.settings import MeshPaths, mesh_paths

console = Console()


def _generate(paths: MeshPaths, scale: float, seed: int) -> None:
    from mesh_platform.generate import generate

    with console.status("generating demo data") as status:

        def progress(step: str, done: int, total: int) -> None:
            status.update(f"generating demo data: {step} {done}/{total}")

        summary = generate(paths.landing, scale=scale, seed=seed, progress=progress)
    rows = ", ".join(f"{k} {v:,}" for k, v in summary.rows.items())
    console.print(
        f"[green]generated[/] scale {scale} seed {seed} in {summary.seconds:.1f}s: {rows}"
    )


def prepare_manifests(paths: MeshPaths) -> None:
    """Parse every domain's dbt project whose manifest is stale, reporting each parse."""
    from mesh_platform.dbt.project import prepare_manifest

    for domain_dir in sorted(paths.domains.glob("*/dbt")):
        started = time.perf_counter()
        if prepare_manifest(domain_dir):
            name = domain_dir.parent.name
            console.print(
                f"prepared dbt manifest of {name} in {time.perf_counter() - started:.1f}s"
            )


def generate_cmd(
    scale: float = typer.Option(1.0, help="1 = ~100k order lines; 100 = ~10M."),
    seed: int = typer.Option(42, help="Same seed, same data."),
) -> None:
    """Generate the retail demo data into the landing zone ($MESH_HOME/landing)."""
    _generate(mesh_paths(), scale, seed)


def prepare_cmd() -> None:
    """Parse every domain's dbt project whose manifest is stale (done ahead, not at load time)."""
    prepare_manifests(mesh_paths())


def _status(result) -> str:
    return "[green]ok[/]" if result.success else "[red]failed[/]"


def _summary_table(results) -> Table:
    table = Table(title="mesh up")
    columns = ("domain", "status", "assets", "ports published (rows)", "quarantined rows",
               "rejected files", "checks", "seconds")  # fmt: skip
    for col in columns:
        table.add_column(col)
    for r in results:
        status = _status(r)
        ports = ", ".join(f"{p} ({n:,})" for p, n in r.ports.items()) or "-"
        checks = f"{r.checks_passed} passed" + (
            f", {r.checks_failed} failed" if r.checks_failed else ""
        )
        table.add_row(r.domain, status, str(r.materialized), ports, f"{r.quarantined:,}",
                      str(r.rejected_files), checks, f"{r.seconds:.1f}")  # fmt: skip
    return table


def up_cmd(
    scale: float = typer.Option(1.0, help="Scale of the demo data generated when none is there."),
    seed: int = typer.Option(42, help="Seed of the demo data."),
    domain: list[str] = typer.Option(None, "--domain", "-d", help="Only these domains."),
) -> None:
    """Generate data if absent, then materialise every domain in dependency order."""
    from mesh_platform.orchestrate import run_mesh

    paths = mesh_paths()
    started = time.perf_counter()
    if not any(paths.landing.glob("*/*")):
        _generate(paths, scale, seed)
    prepare_manifests(paths)
    results = run_mesh(
        paths,
        only=domain or None,
        on_start=lambda d: console.print(f"[bold]{d}[/]: materialising ..."),
        on_done=lambda r: console.print(f"[bold]{r.domain}[/]: {_status(r)} in {r.seconds:.1f}s"),
    )
    console.print(_summary_table(results))
    for r in results:
        if r.error:
            console.print(f"[red]{r.domain}[/]: {r.error}", highlight=False)
    console.print(
        f"total {time.perf_counter() - started:.1f}s; runs recorded in {paths.dagster_home}"
    )
    if not all(r.success for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the build commands to the app."""
    app.command("generate")(generate_cmd)
    app.command("prepare")(prepare_cmd)
    app.command("up")(up_cmd)
