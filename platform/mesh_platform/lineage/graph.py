"""Render a lineage graph as Graphviz dot, Mermaid, PNG (through Graphviz) or a text table."""

from __future__ import annotations

import json
import shutil
import subprocess

from mesh_platform.lineage.naming import PORT_TAIL
from mesh_platform.lineage.queries import LineageGraph, Node

FORMATS = ("dot", "mermaid", "png")


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed, so no PNG can be drawn."""


def short_name(dataset: str) -> str:
    """A readable label: ``port billing/invoices/v1``, ``landing ...``, or the table name."""
    if dataset.startswith("duckdb://"):
        return dataset.rpartition(":")[2]
    path = dataset.partition(":")[2] or dataset
    if "/landing/" in path:
        return f"landing {path.rsplit('/landing/', 1)[1]}"
    if port := PORT_TAIL.search(path):  # a port's table location ends <domain>/<product>/v<n>
        return f"port {port.group(0)}"
    return path


def label(node: Node) -> str:
    """A node's label: the dataset's short name, and the column on a second line."""
    name = short_name(node.dataset)
    return f"{name}\n{node.column}" if node.column is not None else name


def _kind(dataset: str) -> str:
    name = short_name(dataset)
    return name.split()[0] if name.startswith(("port ", "landing ")) else "table"


def to_dot(graph: LineageGraph) -> str:
    """Graphviz source: ports as folders, landing files as notes, tables as boxes."""
    shapes = {"port": "folder", "landing": "note", "table": "box"}
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for n in graph.nodes:
        style = ', style="bold"' if n.id == graph.root else ""
        lines.append(
            f"  {ids[n.id]} [label={json.dumps(label(n))}, shape={shapes[_kind(n.dataset)]}"
            f", tooltip={json.dumps(n.id)}{style}];"
        )
    for e in graph.edges:
        lines.append(f"  {ids[e.source]} -> {ids[e.target]} [label={json.dumps(e.job)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid labels are quoted; a quote inside would end them, a newline needs <br/>.
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(graph: LineageGraph) -> str:
    """A Mermaid flowchart, left to right."""
    brackets = {"port": ('[/"', '"/]'), "landing": ('[("', '")]'), "table": ('["', '"]')}
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for n in graph.nodes:
        left, right = brackets[_kind(n.dataset)]
        lines.append(f"  {ids[n.id]}{left}{_mermaid_text(label(n))}{right}")
    for e in graph.edges:
        lines.append(f'  {ids[e.source]} -->|"{_mermaid_text(e.job)}"| {ids[e.target]}')
    if graph.root in ids:
        lines.append(f"  style {ids[graph.root]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_png(graph: LineageGraph) -> bytes:
    """PNG bytes drawn by Graphviz's ``dot -Tpng``.

    Raises:
        GraphvizMissing: when ``dot`` is not on PATH.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            "PNG output needs Graphviz's `dot` on PATH: install it with "
            "`apt-get install graphviz` (or use --format dot|mermaid)"
        )
    done = subprocess.run([dot, "-Tpng"], input=to_dot(graph).encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot -Tpng failed: {done.stderr.decode().strip()}")
    return done.stdout


def render(graph: LineageGraph, fmt: str) -> str | bytes:
    """The graph in ``dot``, ``mermaid`` (text) or ``png`` (bytes)."""
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "png":
        return to_png(graph)
    raise ValueError(f"unknown graph format {fmt!r}: use one of {', '.join(FORMATS)}")


def table_rows(graph: LineageGraph) -> list[tuple[str, str, str]]:
    """(depth, node, produced by) rows for a text table, nearest first."""
    jobs: dict[str, set[str]] = {}
    for e in graph.edges:
        # Upstream, a node's job is the one that wrote it; downstream, the one that read into it.
        jobs.setdefault(e.target, set()).add(e.job)
    return [
        (str(n.depth), label(n).replace("\n", " . "), ", ".join(sorted(jobs.get(n.id, ()))))
        for n in graph.nodes
    ]
