"""Audit queries over the lineage store: upstream/downstream graphs, runs, column lineage."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mesh_platform.lineage.naming import DatasetName, resolve_alias
from mesh_platform.lineage.store import LineageStore
from mesh_platform.settings import MeshPaths

Direction = Literal["up", "down", "both"]

# Nodes are datasets, or (dataset, column) structs at column level; ``s -> t`` is the data flow.
_EDGES = {
    False: "SELECT DISTINCT src AS s, dst AS t FROM dataset_edges",
    True: "SELECT DISTINCT {'ds': src, 'col': src_field} AS s, {'ds': dst, 'col': dst_field} AS t "
    "FROM column_edges",
}
_START = {False: "?", True: "struct_pack(ds := ?, col := ?)"}


@dataclass(frozen=True)
class Node:
    """A dataset (``column`` None) or one column of it, ``depth`` hops from the root."""

    id: str
    dataset: str
    column: str | None
    depth: int


@dataclass(frozen=True)
class Edge:
    """Data flowing from ``source`` to ``target`` (node ids) in the latest run of ``job``."""

    source: str
    target: str
    job: str
    run_id: str
    transformation: str | None = None


@dataclass
class LineageGraph:
    """The answer of an upstream/downstream query."""

    root: str
    column: str | None
    direction: Direction
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def node_id(dataset: str, column: str | None = None) -> str:
    """``<dataset>`` or ``<dataset>#<column>``."""
    return f"{dataset}#{column}" if column is not None else dataset


def resolve(store: LineageStore, paths: MeshPaths, text: str) -> str:
    """The store id of what a user typed: an alias, ``namespace:name``, or a unique bare name.

    A bare name such as ``billing.main.invoices`` matches the one dataset of that name.
    """
    wanted = str(resolve_alias(paths, text))
    if store.query("SELECT 1 FROM datasets WHERE ds = ?", [wanted]):
        return wanted
    hits = store.query("SELECT ds FROM datasets WHERE name = ?", [text])
    return hits[0]["ds"] if len(hits) == 1 else wanted


_INFO = {
    False: "JOIN dataset_edges x ON x.src = w.s AND x.dst = w.t",
    True: "JOIN column_edges x ON x.src = w.s.ds AND x.src_field = w.s.col "
    "AND x.dst = w.t.ds AND x.dst_field = w.t.col",
}


def _walk(store: LineageStore, start: list[str], column: bool, up: bool, depth: int | None):
    """Edges (s, t, job, run id, transformation) reachable from the start, by a recursive CTE.

    Without a depth limit the rows carry no depth, so UNION's de-duplication stops cycles; with
    one, the limit does.
    """
    near, far = ("t", "s") if up else ("s", "t")
    hop = f"e.{near} = w.{far}"
    if depth is None:
        walk = f"""w(s, t) AS (SELECT s, t FROM e WHERE {near} = {_START[column]}
            UNION SELECT e.s, e.t FROM e JOIN w ON {hop})"""
        params: list[Any] = start
    else:
        walk = f"""w(s, t, d) AS (SELECT s, t, 1 FROM e WHERE {near} = {_START[column]}
            UNION SELECT e.s, e.t, w.d + 1 FROM e JOIN w ON {hop} WHERE w.d < ?)"""
        params = [*start, depth]
    how = "min(x.transformation)" if column else "NULL"
    sql = f"""WITH RECURSIVE e AS ({_EDGES[column]}), {walk}
        SELECT w.s, w.t, min(x.job_name), arg_min(x.run_id, x.job_name), {how}
        FROM (SELECT DISTINCT s, t FROM w) w {_INFO[column]} GROUP BY w.s, w.t"""
    return store.con.execute(sql, params).fetchall()


def _key(value: Any) -> tuple[str, str | None]:
    return (value["ds"], value["col"]) if isinstance(value, dict) else (value, None)


def _graph(store, dataset, column, depth, direction: Direction) -> LineageGraph:
    root = str(dataset)
    start = [root, column] if column else [root]
    graph = LineageGraph(root=node_id(root, column), column=column, direction=direction)
    ends: dict[str, tuple[str, str | None]] = {graph.root: (root, column)}
    edges: dict[tuple[str, str], Edge] = {}
    hops: dict[str, int] = {graph.root: 0}
    for up in {"up": [True], "down": [False], "both": [True, False]}[direction]:
        found: set[tuple[str, str]] = set()
        for s, t, job, run, how in _walk(store, start, column is not None, up, depth):
            (sd, sc), (td, tc) = _key(s), _key(t)
            pair = node_id(sd, sc), node_id(td, tc)
            ends[pair[0]], ends[pair[1]] = (sd, sc), (td, tc)
            found.add(pair)
            edges[pair] = Edge(*pair, job, run, how)
        for node, n in _hops(graph.root, found, up).items():
            hops[node] = min(n, hops.get(node, n))
    graph.edges = [edges[k] for k in sorted(edges)]
    order = sorted(ends, key=lambda n: (hops.get(n, 0), n))
    graph.nodes = [Node(n, *ends[n], hops.get(n, 0)) for n in order]
    return graph


def _hops(root: str, pairs: set[tuple[str, str]], up: bool) -> dict[str, int]:
    """Fewest hops from the root to each node, against the flow upstream, with it downstream."""
    near: dict[str, list[str]] = {}
    for s, t in pairs:
        a, b = (t, s) if up else (s, t)
        near.setdefault(a, []).append(b)
    hops, todo = {root: 0}, deque([root])
    while todo:
        here = todo.popleft()
        for nxt in near.get(here, ()):
            if nxt not in hops:
                hops[nxt] = hops[here] + 1
                todo.append(nxt)
    return hops


def upstream(
    store: LineageStore, dataset: DatasetName | str, column: str | None = None,
    depth: int | None = None,
) -> LineageGraph:  # fmt: skip
    """Everything the dataset (or one column of it) is derived from.

    Args:
        store: a synced lineage store.
        dataset: a DatasetName or store id ``namespace:name``.
        column: follow column lineage from this column instead of dataset edges.
        depth: at most this many hops; None for no limit (cycles are safe either way).
    """
    return _graph(store, dataset, column, depth, "up")


def downstream(
    store: LineageStore, dataset: DatasetName | str, column: str | None = None,
    depth: int | None = None,
) -> LineageGraph:  # fmt: skip
    """Everything derived from the dataset (or one column of it); arguments as :func:`upstream`."""
    return _graph(store, dataset, column, depth, "down")


def lineage(
    store: LineageStore, dataset: DatasetName | str, column: str | None = None,
    depth: int | None = None, direction: Direction = "both",
) -> LineageGraph:  # fmt: skip
    """Upstream, downstream or both sides of a dataset in one graph."""
    return _graph(store, dataset, column, depth, direction)


def runs(store: LineageStore, dataset: DatasetName | str, limit: int = 50) -> list[dict[str, Any]]:
    """Runs that read or wrote the dataset, newest first.

    Returns:
        Dicts with run_id, job, status (last event type), started_at, ended_at, parent_run_id
        (the Dagster run), access (read, write or read/write) and dataset_version.
    """
    return store.query(
        """WITH io AS (SELECT run_id, bool_or(direction = 'input') AS r,
             bool_or(direction = 'output') AS w, max(version) AS dataset_version
             FROM dataset_io WHERE ds = ? GROUP BY run_id)
           SELECT e.run_id, arg_max(e.job_name, e.seq) AS job,
             arg_max(e.event_type, e.seq) AS status,
             min(e.event_time) FILTER (WHERE e.event_type = 'START') AS started_at,
             max(e.event_time) FILTER (WHERE e.event_type IN ('COMPLETE', 'FAIL', 'ABORT'))
               AS ended_at,
             arg_max(e.parent_run_id, e.seq) AS parent_run_id,
             CASE WHEN any_value(io.r) AND any_value(io.w) THEN 'read/write'
               WHEN any_value(io.w) THEN 'write' ELSE 'read' END AS access,
             any_value(io.dataset_version) AS dataset_version, max(e.seq) AS seq
           FROM io JOIN run_events e USING (run_id) GROUP BY e.run_id
           ORDER BY seq DESC LIMIT ?""",
        [str(dataset), limit],
    )


def column_lineage(
    store: LineageStore, dataset: DatasetName | str, column: str | None = None
) -> list[dict[str, Any]]:
    """Each column of the dataset with its type and the columns it comes from and feeds (one hop).

    Columns come from the latest schema facet and from column lineage, in that order.
    """
    ds = str(dataset)
    cols = store.query("SELECT field, type, description FROM dataset_fields WHERE ds = ?", [ds])
    ins = store.query("SELECT * FROM column_edges WHERE dst = ? ORDER BY ALL", [ds])
    outs = store.query("SELECT * FROM column_edges WHERE src = ? ORDER BY ALL", [ds])
    seen = {c["field"] for c in cols}
    extra = sorted(({e["dst_field"] for e in ins} | {e["src_field"] for e in outs}) - seen)
    cols += [{"field": f, "type": None, "description": None} for f in extra]
    return [
        {"column": c["field"], "type": c["type"], "description": c["description"],
         "inputs": [{"dataset": e["src"], "field": e["src_field"], "job": e["job_name"],
                     "transformation": e["transformation"]}
                    for e in ins if e["dst_field"] == c["field"]],
         "outputs": [{"dataset": e["dst"], "field": e["dst_field"], "job": e["job_name"],
                      "transformation": e["transformation"]}
                     for e in outs if e["src_field"] == c["field"]]}
        for c in cols if column is None or c["field"] == column
    ]  # fmt: skip


def datasets(store: LineageStore) -> list[dict[str, Any]]:
    """Every dataset the log names, with namespace and name."""
    return store.query("SELECT ds AS id, namespace, name FROM datasets ORDER BY ds")
