"""The governance audit report: one self-contained HTML page rendered from a governance run."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.engine import GovernanceResult
from mesh_platform.lineage.graph import short_name
from mesh_platform.lineage.naming import port_root
from mesh_platform.settings import MeshPaths

# Who publishes which port and who reads it, from the inputs and outputs of every logged run.
_PORT_IO = """SELECT DISTINCT r.job_namespace, d.direction, d.namespace, d.name
FROM dataset_io d JOIN run_events r ON r.run_id = d.run_id AND r.seq = d.seq
WHERE r.job_namespace LIKE 'mesh.%' AND d.namespace = 'file' AND d.name LIKE ?"""


@dataclass
class ReportData:
    """Everything the template shows besides the findings."""

    contracts: list[dict[str, Any]] = field(default_factory=list)
    pii: list[dict[str, Any]] = field(default_factory=list)
    pii_source: str = "contracts"
    models: list[dict[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    edges_source: str = "descriptors"


def _contracts(ctx: MeshContext) -> list[dict[str, Any]]:
    snaps = ctx.runtime.snapshots
    out = []
    for key, c in sorted(ctx.contracts.items()):
        if c.is_source:
            continue
        snap = snaps.get((c.domain, c.product, c.port_version))
        out.append({"key": key, "id": c.id, "version": c.version, "status": c.model.status,
                    "snapshot": snap.snapshot_id if snap else None,
                    "rows": snap.rows if snap else None})  # fmt: skip
    return out


def _pii(ctx: MeshContext) -> tuple[list[dict[str, Any]], str]:
    """Columns holding PII: traced through lineage when logged, else as contracts classify."""
    store = ctx.runtime.lineage_store
    if store is not None:
        from mesh_platform.lineage.pii import permitted_columns, scan

        report = scan(store, ctx.paths, ctx.contracts, permitted_columns(ctx.domains))
        rows = [{"source": f"{r.source.contract}.{r.source.column}",
                 "dataset": short_name(r.dataset), "column": r.column,
                 "classification": r.classification or "", "flagged": r.flagged,
                 "reason": r.reason} for r in report.reached if r.port]  # fmt: skip
        return rows, "lineage"
    rows = [{"source": key, "dataset": key, "column": col.name,
             "classification": col.classification, "flagged": False, "reason": ""}
            for key, c in sorted(ctx.contracts.items())
            for col in c.columns if (col.classification or "").startswith("pii")]  # fmt: skip
    return rows, "contracts"


def _models(ctx: MeshContext) -> list[dict[str, Any]]:
    from mesh_platform.ml import registry
    from mesh_platform.ml.gates import check_gates

    out = []
    for domain, product in ctx.products():
        if product.model is None:
            continue
        try:
            champ = registry.champion(ctx.runtime.registry, product.name)
        except (registry.RegistryError, OSError):
            champ = None
        metrics = champ.metrics if champ else {}
        failed = check_gates(champ.gate_metrics, product.model.gates) if champ else []
        out.append({"product": f"{domain.name}/{product.name}", "gates": product.model.gates,
                    "champion": champ.version if champ else None,
                    "metrics": {k: round(v, 4) for k, v in metrics.items()
                                if k in product.model.gates},
                    "passed": champ is not None and not failed})  # fmt: skip
    return out


def _edges(ctx: MeshContext) -> tuple[list[tuple[str, str]], str]:
    """(from, to) of the mesh picture: domain -> port it publishes -> domain reading it."""
    store = ctx.runtime.lineage_store
    if store is not None:
        lake = port_root(ctx.paths).name
        edges = set()
        for row in store.query(_PORT_IO, [lake + "%"]):
            domain, port = (
                row["job_namespace"].removeprefix("mesh."),
                short_name("file:" + row["name"]),
            )
            edges.add((domain, port) if row["direction"] == "output" else (port, domain))
        if edges:
            return sorted(edges), "lineage"
    edges = set()
    for d in ctx.domains.values():
        for p in d.products.values():
            edges |= {(d.name, f"port {d.name}/{o.name}/v{o.version}") for o in p.output_ports}
            edges |= {(f"port {i.product}/v{i.version}", d.name)
                      for i in p.input_ports if i.kind == "port"}  # fmt: skip
    return sorted(edges), "descriptors"


def lineage_svg(edges: list[tuple[str, str]]) -> str | None:
    """The mesh picture as inline SVG drawn by Graphviz; None when ``dot`` is missing."""
    dot = shutil.which("dot")
    if dot is None or not edges:
        return None
    nodes = sorted({n for e in edges for n in e})
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph mesh {", "rankdir=LR;", 'node [fontname="Helvetica", fontsize=10];']
    for n in nodes:
        shape = 'folder, style=filled, fillcolor="#eef3ff"' if n.startswith("port ") else "box3d"
        lines.append(f"{ids[n]} [label={json.dumps(n.removeprefix('port '))}, shape={shape}];")
    lines += [f"{ids[a]} -> {ids[b]};" for a, b in edges] + ["}"]
    done = subprocess.run([dot, "-Tsvg"], input="\n".join(lines).encode(), capture_output=True)
    if done.returncode != 0:
        return None
    svg = done.stdout.decode()
    return svg[svg.find("<svg") :]  # drop the XML prolog and doctype: inline in HTML


def gather(ctx: MeshContext) -> ReportData:
    """The contracts, PII map, model gates and mesh picture of a context."""
    pii, pii_source = _pii(ctx)
    edges, edges_source = _edges(ctx)
    return ReportData(_contracts(ctx), pii, pii_source, _models(ctx), edges, edges_source)


def render_html(result: GovernanceResult, paths: MeshPaths, data: ReportData | None = None) -> str:
    """The audit report of a governance run as one self-contained HTML page.

    Args:
        result: the governance run.
        paths: the mesh it judged (runtime state is read from its MESH_HOME).
        data: precomputed contracts/PII/models/picture (default: gathered now).
    """
    if data is None:
        ctx = MeshContext.load(paths)
        try:
            data = gather(ctx)
        finally:
            ctx.runtime.close()
    env = Environment(
        loader=PackageLoader("mesh_platform.governance", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("report.html.j2").render(
        result=result, scorecard=result.scorecard(), data=data, svg=lineage_svg(data.edges),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), home=str(paths.home),
    )  # fmt: skip
