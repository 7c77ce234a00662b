"""`mesh generate`, `mesh prepare` and `mesh up`: make data, prepare dbt, build the mesh."""

from __future__ import annotations

import os
import time

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.cli.progress import GenerateProgress, UpProgress
from mesh_platform.settings import MeshPaths, mesh_paths

console = Console()


def _generate(paths: MeshPaths, scale: float, seed: int) -> None:
    from mesh_demo.generate import generate

    with GenerateProgress(console) as progress:
        summary = generate(paths.landing, scale=scale, seed=seed, progress=progress)
    rows = ", ".join(f"{k} {v:,}" for k, v in summary.rows.items())
    console.print(
        f"[green]generated[/] scale {scale} seed {seed} in {summary.seconds:.1f}s: {rows}"
    )


def prepare_manifests(paths: MeshPaths) -> None:
    """Render every domain's dbt project under MESH_HOME and parse those whose manifest is stale."""
    from mesh_platform.dbt.project import prepare_manifest
    from mesh_platform.dbt.render import render_project
    from mesh_platform.descriptors.loader import load_mesh

    domains, _ = load_mesh(paths.domains)  # `mesh validate` reports descriptor errors
    for name, domain in sorted(domains.items()):
        started = time.perf_counter()
        if prepare_manifest(render_project(domain, paths.contracts, paths.home)):
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


def summary_line(results, seconds: float) -> str:
    """One sentence for the end of `mesh up`: domains ok and failed, ports and rows, time."""
    failed = [r.domain for r in results if not r.success]
    ports = sum(len(r.ports) for r in results)
    rows = sum(sum(r.ports.values()) for r in results)
    text = f"{len(results) - len(failed)} of {len(results)} domains ok"
    text += f" (failed: {', '.join(failed)})" if failed else ""
    return text + f"; {ports} ports published, {rows:,} rows; total {seconds:.1f}s"


def up_cmd(
    scale: float = typer.Option(1.0, help="Scale of the demo data generated when none is there."),
    seed: int = typer.Option(42, help="Seed of the demo data."),
    domain: list[str] = typer.Option(None, "--domain", "-d", help="Only these domains."),
) -> None:
    """Generate data if absent, then materialise every domain in dependency order."""
    from mesh_platform.orchestration.mesh_up import run_mesh

    paths = mesh_paths()
    started = time.perf_counter()
    if not any(paths.landing.glob("*/*")):
        _generate(paths, scale, seed)
    prepare_manifests(paths)
    with UpProgress(console) as progress:
        results = run_mesh(
            paths, only=domain or None, on_start=progress.start, on_done=progress.done,
            on_event=progress.event,
        )  # fmt: skip
    # A CI log is no terminal: give the table room instead of rich's 80 columns.
    wide = console if console.is_terminal or "COLUMNS" in os.environ else Console(width=160)
    wide.print(_summary_table(results))
    for r in results:
        if r.error:
            console.print(f"[red]{r.domain}[/]: {r.error}", highlight=False)
    console.print(summary_line(results, time.perf_counter() - started), highlight=False)
    console.print(f"runs recorded in {paths.dagster_home}; logs in {paths.home / 'logs'}")
    if not all(r.success for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the build commands to the app."""
    app.command("generate")(generate_cmd)
    app.command("prepare")(prepare_cmd)
    app.command("up")(up_cmd)
