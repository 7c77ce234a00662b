"""`mesh lineage ...`: audit the lineage log: graphs, runs, PII flow, tamper and gap checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.settings import MeshPaths, mesh_paths

console = Console()
err_console = Console(stderr=True)
lineage_app = typer.Typer(help="Audit lineage: graphs, runs, PII flow, tamper and gap checks.",
                          no_args_is_help=True)  # fmt: skip

DATASET = typer.Argument(..., help="<domain>/<product>[@v1], namespace:name, or a table name")
COLUMN = typer.Option(None, "--column", "-c", help="follow this column's lineage")
DEPTH = typer.Option(None, "--depth", "-d", min=1, help="at most this many hops")


class Format(StrEnum):
    """Output of listing commands."""

    table = "table"
    json = "json"


class GraphFormat(StrEnum):
    """Output of `mesh lineage graph`."""

    dot = "dot"
    mermaid = "mermaid"
    png = "png"


class Direction(StrEnum):
    """Which side of the dataset to draw."""

    up = "up"
    down = "down"
    both = "both"


FORMAT = typer.Option(Format.table, "--format", "-f", help="table or json")


@contextmanager
def _store() -> Iterator[tuple[MeshPaths, Any]]:
    """The store, synced from the log first (every command answers from the latest events)."""
    from mesh_platform.lineage.store import open_store

    paths = mesh_paths()
    store = open_store(paths.lineage)
    try:
        yield paths, store
    finally:
        store.close()


def _dataset(store: Any, paths: MeshPaths, text: str) -> str:
    from mesh_platform.lineage.queries import resolve

    found = resolve(store, paths, text)
    if not store.query("SELECT 1 FROM datasets WHERE ds = ?", [found]):
        err_console.print(f"[red]no lineage recorded for[/] {found}", highlight=False)
        raise typer.Exit(2)
    return found


def _print_rows(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def _walk(text: str, column: str | None, depth: int | None, fmt: Format, up: bool) -> None:
    from mesh_platform.lineage.graph import short_name, table_rows
    from mesh_platform.lineage.queries import downstream, upstream

    with _store() as (paths, store):
        graph = (upstream if up else downstream)(store, _dataset(store, paths, text), column, depth)
    if fmt is Format.json:
        typer.echo(json.dumps(graph.to_dict(), indent=2))
        return
    side = "upstream" if up else "downstream"
    what = short_name(graph.root.split("#")[0]) + (f" . {column}" if column else "")
    _print_rows(f"{side} of {what}", ["depth", "dataset", "written by"],
                [list(r) for r in table_rows(graph)])  # fmt: skip


@lineage_app.command("upstream")
def upstream_cmd(dataset: str = DATASET, column: str | None = COLUMN, depth: int | None = DEPTH,
                 fmt: Format = FORMAT) -> None:  # fmt: skip
    """What the dataset (or a column) is derived from."""
    _walk(dataset, column, depth, fmt, up=True)


@lineage_app.command("downstream")
def downstream_cmd(dataset: str = DATASET, column: str | None = COLUMN, depth: int | None = DEPTH,
                   fmt: Format = FORMAT) -> None:  # fmt: skip
    """What is derived from the dataset (or a column)."""
    _walk(dataset, column, depth, fmt, up=False)


@lineage_app.command("runs")
def runs_cmd(dataset: str = DATASET, limit: int = typer.Option(50, "--limit", min=1),
             fmt: Format = FORMAT) -> None:  # fmt: skip
    """Runs that read or wrote the dataset, newest first."""
    from mesh_platform.lineage.queries import runs

    with _store() as (paths, store):
        found = runs(store, _dataset(store, paths, dataset), limit)
    if fmt is Format.json:
        typer.echo(json.dumps(found, indent=2, default=str))
        return
    cols = ["job", "access", "status", "started_at", "ended_at", "parent_run_id",
            "dataset_version", "run_id"]  # fmt: skip
    _print_rows(f"runs touching {dataset}", cols, [[r[c] for c in cols] for r in found])


@lineage_app.command("graph")
def graph_cmd(
    dataset: str = DATASET,
    fmt: GraphFormat = typer.Option(GraphFormat.dot, "--format", "-f"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file (png needs one)"),
    direction: Direction = typer.Option(Direction.both, "--direction"),
    column: str | None = COLUMN, depth: int | None = DEPTH,
) -> None:  # fmt: skip
    """Draw the dataset's lineage as Graphviz dot, Mermaid or PNG."""
    from mesh_platform.lineage.graph import GraphvizMissing, render
    from mesh_platform.lineage.queries import lineage

    if fmt is GraphFormat.png and output is None:
        err_console.print("[red]--format png needs --output FILE[/]")
        raise typer.Exit(2)
    with _store() as (paths, store):
        graph = lineage(store, _dataset(store, paths, dataset), column, depth, direction.value)
    try:
        drawn = render(graph, fmt.value)
    except GraphvizMissing as exc:
        err_console.print(f"[red]error[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    if output is None:
        typer.echo(drawn, nl=False)
    else:
        if isinstance(drawn, bytes):
            output.write_bytes(drawn)
        else:
            output.write_text(drawn)
        console.print(f"wrote {output} ({len(graph.nodes)} nodes, {len(graph.edges)} edges)")


@lineage_app.command("pii")
def pii_cmd(fmt: Format = FORMAT) -> None:
    """Where contract-classified PII flows; exit 1 if a port publishes it unmasked."""
    from mesh_platform.contracts.odcs import load_contracts
    from mesh_platform.descriptors.loader import load_mesh
    from mesh_platform.lineage.pii import permitted_columns, scan

    with _store() as (paths, store):
        contracts, _ = load_contracts(paths.contracts)
        domains, _ = load_mesh(paths.domains)
        report = scan(store, paths, contracts, permitted_columns(domains))
    if fmt is Format.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        ported = [r for r in report.reached if r.port or r.flagged]
        _print_rows(f"PII in ports ({len(report.sources)} PII source columns)",
                    ["port", "column", "classification", "from", "verdict"],
                    [[r.port or r.dataset, r.column, r.classification,
                      f"{r.source.contract}.{r.source.column}",
                      f"FLAGGED: {r.reason}" if r.flagged else r.reason]
                     for r in ported])  # fmt: skip
    if report.flagged:
        err_console.print(f"[red]{len(report.flagged)} port column(s) carry unmasked PII[/]")
        raise typer.Exit(1)


@lineage_app.command("verify")
def verify_cmd() -> None:
    """Check the event log against its hash chain; exit 1 and name each break if tampered."""
    from mesh_platform.lineage.log import EVENTS, verify

    paths = mesh_paths()
    problems = verify(paths.lineage)
    for p in problems:
        err_console.print(f"[red]seq {p.seq}[/]: {p.kind}: {p.detail}", highlight=False)
    if problems:
        raise typer.Exit(1)
    log = paths.lineage / EVENTS
    count = sum(1 for _ in log.open()) if log.exists() else 0
    with _store():
        pass  # an intact log is synced like every other command does
    console.print(f"[green]verified[/]: {count} events, hash chain intact")


@lineage_app.command("check")
def check_cmd(fmt: Format = FORMAT) -> None:
    """Is lineage complete: each asset's last run logged, each cross-domain edge seen? 1 if not."""
    from mesh_platform.contracts.odcs import load_contracts
    from mesh_platform.lineage.completeness import check, last_run_ids
    from mesh_platform.orchestration.asset_graph import mesh_asset_graph

    paths = mesh_paths()
    graph = mesh_asset_graph(paths)
    last = last_run_ids(paths, graph)
    contracts, _ = load_contracts(paths.contracts)
    versions = {k: c.port_version for k, c in contracts.items() if not c.is_source}
    with _store() as (_, store):
        report = check(paths, store, graph, last, versions)
    if fmt is Format.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    for gap in report.missing_runs if fmt is Format.table else []:
        err_console.print(f"[red]missing run[/] {gap.asset}: {gap.reason}", highlight=False)
    for e in report.missing_edges if fmt is Format.table else []:
        err_console.print(f"[red]missing edge[/] {e.producer} -> {e.consumer}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    if fmt is Format.table:
        console.print(f"[green]complete[/]: {report.checked_assets} assets' last runs, "
                      f"{report.checked_edges} cross-domain edges")  # fmt: skip


@lineage_app.command("sync")
def sync_cmd(rebuild: bool = typer.Option(False, "--rebuild", help="rebuild from scratch")) -> None:
    """Bring the lineage store up to date with the event log."""
    from mesh_platform.lineage.store import open_store

    paths = mesh_paths()
    with open_store(paths.lineage, sync=False) as store:
        added = store.rebuild(paths.lineage) if rebuild else store.sync(paths.lineage)
        total = store.last_seq + 1
    console.print(f"synced {added} new event(s); {total} in the store")


def register(app: typer.Typer) -> None:
    """Add the `lineage` sub-command group to the app."""
    app.add_typer(lineage_app, name="lineage")
