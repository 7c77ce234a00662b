"""Policy: the last run of every asset left lineage, and every cross-domain read shows in it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity

if TYPE_CHECKING:  # lineage.completeness opens DuckDB stores: imported when lineage is checked
    from mesh_platform.lineage.completeness import AssetGraph

SOURCE_CALL = re.compile(r"""source\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]\s*\)""")
PORT_CALL = re.compile(r"""mesh_port\(\s*['"](\w+/\w+)['"]""")  # the platform's macro
FIX = (
    "re-run the asset with lineage on (MESH_LINEAGE unset, an OpenLineage transport that "
    "accepts events); `mesh lineage check` lists every gap"
)


def spec_asset_graph(ctx: MeshContext) -> AssetGraph:
    """The dbt assets and the cross-domain port reads, from the dbt project files (no Dagster).

    ``orchestration.asset_graph.mesh_asset_graph`` builds every domain's Definitions instead, which
    takes seconds per domain; this reads the same facts from the .sql and sources .yml files.
    """
    from mesh_platform.lineage.completeness import AssetGraph, CrossEdge

    graph = AssetGraph()
    for domain in ctx.selected():
        models = domain.dbt_dir / "models"
        keys = graph.assets.setdefault(domain.name, [])
        sources = ctx.port_sources.get(domain.name, {})
        for sql in sorted(models.rglob("*.sql")) if models.is_dir() else []:
            keys.append(f"{domain.name}/{sql.stem}")
            text = sql.read_text(encoding="utf-8")
            reads = [sources.get(call) for call in SOURCE_CALL.findall(text)]
            for port in [*reads, *PORT_CALL.findall(text)]:
                if port and port.split("/")[0] != domain.name:
                    graph.cross_edges.append(CrossEdge(port, keys[-1]))
    return graph


@contextmanager
def _dagster_home(home: Path) -> Iterator[None]:
    """Point Dagster at this mesh's instance while reading it."""
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = before


def check_lineage(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Gaps found by ``lineage.completeness.check`` for the assets' last Dagster runs."""
    from mesh_platform.lineage import completeness

    store = ctx.runtime.lineage_store if ctx.runtime.has_runs else None
    last: dict[str, str] = {}
    graph = spec_asset_graph(ctx) if store is not None else None
    if graph is not None and ctx.paths.dagster_home.is_dir():
        with _dagster_home(ctx.paths.dagster_home):
            last = completeness.last_run_ids(ctx.paths, graph)
    if store is None or graph is None or not last:
        for domain in ctx.selected():
            yield policy.finding(
                domain.name,
                None,
                ctx.domain_file(domain),
                "",
                "no run recorded yet in MESH_HOME: lineage not checked",
                "nothing to do before the first run",
                Severity.info,
            )
        return
    versions = {k: c.port_version for k, c in ctx.contracts.items() if "@" not in k}
    report = completeness.check(ctx.paths, store, graph, last, versions)
    for gap in report.missing_runs:
        domain, asset = gap.asset.split("/", 1)
        yield policy.finding(
            domain,
            ctx.port_products.get((domain, asset)),
            _model_file(ctx, domain, asset),
            "",
            gap.reason,
            FIX,
        )
    for edge in report.missing_edges:
        domain, asset = edge.consumer.split("/", 1)
        yield policy.finding(
            domain,
            None,
            _model_file(ctx, domain, asset),
            "",
            f"lineage shows no read of port {edge.producer} by {edge.consumer} "
            f"({edge.source} -> {edge.target})",
            FIX,
        )


def _model_file(ctx: MeshContext, domain: str, model: str) -> str:
    found = sorted((ctx.domains[domain].dbt_dir / "models").rglob(f"{model}.sql"))
    return ctx.rel(found[0]) if found else ctx.domain_file(ctx.domains[domain])


POLICY = Policy(
    id="lineage-complete",
    severity=Severity.error,
    rationale="Auditors trace every published number back to its sources: no run may go unlogged.",
    check=check_lineage,
    runtime=True,
)
