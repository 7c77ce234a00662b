"""`mesh generate`, `mesh prepare` and `mesh up`: make data, prepare dbt, build the mesh."""

from __future__ import annotations

import os
import time
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mesh_platform.cli.progress import GenerateProgress, UpProgress
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.meshfile import MeshSpec, load_generator, load_mesh_file
from mesh_platform.settings import MeshPaths, mesh_paths

console = Console()
err_console = Console(stderr=True)


END_DATE = typer.Option(
    None, formats=["%Y-%m-%d"],
    help="Last day of the demo data, YYYY-MM-DD (default: today, UTC). Same seed and day, same "
    "data.",
)  # fmt: skip


def _generate(
    paths: MeshPaths, spec: MeshSpec, scale: float | None, seed: int | None,
    end_date: datetime | None = None,
) -> bool:  # fmt: skip
    """Run the generator mesh.yaml declares into the landing zone; False when it declares none.

    ``end_date`` is passed on only when given (a generator of another mesh may not take it).
    """
    generate = load_generator(paths.root, spec)
    if generate is None:
        return False
    scale = spec.defaults.scale if scale is None else scale
    seed = spec.defaults.seed if seed is None else seed
    extra = {"end_date": end_date.date()} if end_date else {}
    with GenerateProgress(console) as progress:
        summary = generate(paths.landing, scale=scale, seed=seed, progress=progress, **extra)
    rows = ", ".join(f"{k} {v:,}" for k, v in getattr(summary, "rows", {}).items())
    took = getattr(summary, "seconds", None)
    took_text = f" in {took:.1f}s" if isinstance(took, int | float) else ""
    end = getattr(summary, "end_date", None)
    ending = f" ending {end}" if end else ""
    console.print(
        f"[green]generated[/] scale {scale} seed {seed}{ending}{took_text}: {rows or '-'}"
    )
    return True


def prepare_manifests(paths: MeshPaths) -> None:
    """Render every domain's dbt project under MESH_HOME and parse those whose manifest is stale."""
    from mesh_platform.dbt.project import prepare_manifest
    from mesh_platform.dbt.render import render_project
    from mesh_platform.descriptors.loader import load_mesh

    domains, _ = load_mesh(paths.domains)  # `mesh validate` reports descriptor errors
    for name, domain in sorted(domains.items()):
        started = time.perf_counter()
        project = render_project(domain, paths.contracts, paths.home)
        if prepare_manifest(project, origin=domain.dbt_dir):
            console.print(
                f"prepared dbt manifest of {name} in {time.perf_counter() - started:.1f}s"
            )


def generate_cmd(
    scale: float = typer.Option(None, help="Size multiplier (default: mesh.yaml's defaults)."),
    seed: int = typer.Option(None, help="Same seed, same data (default: mesh.yaml's defaults)."),
    end_date: datetime = END_DATE,
) -> None:
    """Generate demo data into the landing zone ($MESH_HOME/landing) by mesh.yaml's generator."""
    paths = mesh_paths()
    if not _generate(paths, load_mesh_file(paths.root), scale, seed, end_date):
        err_console.print(
            f"[red]error[/] {paths.mesh_file}: declares no demo.generator, so this mesh has no "
            f"demo data to generate; its sources drop files into {paths.landing}/<feed>/",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(2)


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


def _print_failures(console: Console, results) -> None:
    """Every failed check (asset, check, reason), one line each, then each domain's error."""
    failed = [c for r in results for c in r.failed_checks]
    if failed:
        console.print(f"[red]{len(failed)} failed check(s):[/]")
    # soft_wrap: a reason stays one line that a terminal wraps, and a log can be searched.
    for c in failed:
        line = Text.assemble("  ", (c.asset, "bold"), " ", (c.check, "red"), f": {c.reason}")
        console.print(line, soft_wrap=True)
    for r in results:
        if r.error:
            console.print(Text.assemble((r.domain, "red"), f": {r.error}"), soft_wrap=True)


def summary_line(results, seconds: float) -> str:
    """One sentence for the end of `mesh up`: domains ok and failed, ports and rows, time."""
    failed = [r.domain for r in results if not r.success]
    ports = sum(len(r.ports) for r in results)
    rows = sum(sum(r.ports.values()) for r in results)
    text = f"{len(results) - len(failed)} of {len(results)} domains ok"
    text += f" (failed: {', '.join(failed)})" if failed else ""
    return text + f"; {ports} ports published, {rows:,} rows; total {seconds:.1f}s"


def _check_profile() -> None:
    """On the distributed profile, every endpoint must be set before anything starts."""
    from mesh_platform.orchestration.profile import ProfileError, distributed, require_endpoints

    if distributed():
        try:
            require_endpoints()
        except ProfileError as exc:
            console.print(Text.assemble(("error ", "red"), str(exc)), soft_wrap=True)
            raise typer.Exit(2) from None


def up_cmd(
    scale: float = typer.Option(
        None, help="Scale of the demo data generated when the landing zone is empty (demo meshes)."
    ),
    seed: int = typer.Option(None, help="Seed of the demo data."),
    end_date: datetime = END_DATE,
    domain: list[str] = typer.Option(None, "--domain", "-d", help="Only these domains."),
) -> None:
    """Materialise every domain in dependency order (a demo mesh first generates its data)."""
    from mesh_platform.orchestration.mesh_up import run_mesh

    paths = mesh_paths()
    spec = load_mesh_file(paths.root)
    _check_profile()
    started = time.perf_counter()
    if not any(paths.domains.glob("*/domain.yaml")):
        console.print(
            f"nothing to build: {paths.domains} holds no domain yet (`mesh new domain NAME`)",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        return
    # Only a mesh that declares a generator gets data made up for it; any other's stays as landed.
    if not any(paths.landing.glob("*/*")) and not _generate(paths, spec, scale, seed, end_date):
        console.print(
            f"landing zone {paths.landing} is empty: sources have delivered nothing yet",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    try:
        prepare_manifests(paths)
    except (RuntimeError, SpecErrors) as exc:  # dbt parse or deps refused: a message, no traceback
        console.print(Text.assemble(("error ", "red"), str(exc)), soft_wrap=True)
        raise typer.Exit(1) from None
    with UpProgress(console) as progress:
        results = run_mesh(
            paths, only=domain or None, on_start=progress.start, on_done=progress.done,
            on_event=progress.event,
        )  # fmt: skip
    # A CI log is no terminal: give the table room instead of rich's 80 columns.
    wide = console if console.is_terminal or "COLUMNS" in os.environ else Console(width=160)
    wide.print(_summary_table(results))
    _print_failures(wide, results)
    console.print(summary_line(results, time.perf_counter() - started), highlight=False)
    console.print(f"runs recorded in {paths.dagster_home}; logs in {paths.home / 'logs'}")
    if not all(r.success for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the build commands to the app."""
    app.command("generate")(generate_cmd)
    app.command("prepare")(prepare_cmd)
    app.command("up")(up_cmd)
