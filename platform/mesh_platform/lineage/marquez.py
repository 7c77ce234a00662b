"""Marquez-shaped lineage and column-lineage graphs over the local lineage store."""

from __future__ import annotations

import re
from typing import Any

from mesh_platform.lineage import queries
from mesh_platform.lineage.store import LineageStore, dataset_id

RUN_STATES = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED",
              "FAIL": "FAILED", "ABORT": "ABORTED"}  # fmt: skip
NODE_KINDS = ("dataset", "job", "datasetField")
_NS_END = re.compile(r":(?!//|\d)")  # Marquez's rule: skip the colons of scheme:// and host:port


def parse_node_id(value: str) -> tuple[str, str, str, str | None]:
    """Split a Marquez node id into (kind, namespace, name, field).

    ``dataset:<ns>:<name>``, ``job:<ns>:<name>`` or ``datasetField:<ns>:<name>:<field>``; the
    namespace may itself hold ``scheme://`` or ``host:port`` colons, as Marquez allows.

    Raises:
        ValueError: not such an id.
    """
    kind, _, rest = value.partition(":")
    field = None
    if kind == "datasetField":
        rest, _, field = rest.rpartition(":")
    split = _NS_END.search(rest)
    if kind not in NODE_KINDS or not split or not rest[split.end() :] or field == "":
        raise ValueError(f"nodeId {value!r} is not dataset:<namespace>:<name>, job:<ns>:<name> "
                         "or datasetField:<ns>:<name>:<field>")  # fmt: skip
    return kind, rest[: split.start()], rest[split.end() :], field


def _datasets(store: LineageStore, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Marquez ``DatasetData`` of the store's datasets ``ids``, by store id."""
    rows = store.query(
        """SELECT d.ds, d.namespace, d.name, min(e.event_time) AS created,
             max(e.event_time) AS updated,
             max(e.event_time) FILTER (WHERE io.direction = 'output') AS modified
           FROM datasets d LEFT JOIN dataset_io io USING (ds) LEFT JOIN run_events e USING (seq)
           WHERE list_contains(?, d.ds) GROUP BY ALL""",
        [sorted(ids)],
    )
    fields: dict[str, list[dict[str, Any]]] = {}
    for f in store.query("FROM dataset_fields WHERE list_contains(?, ds)", [sorted(ids)]):
        fields.setdefault(f["ds"], []).append(
            {"name": f["field"], "type": f["type"], "tags": [], "description": f["description"]}
        )
    return {r["ds"]: {"id": {"namespace": r["namespace"], "name": r["name"]}, "type": "DB_TABLE",
                      "name": r["name"], "physicalName": r["name"], "createdAt": r["created"],
                      "updatedAt": r["updated"], "namespace": r["namespace"],
                      "sourceName": r["namespace"], "fields": fields.get(r["ds"], []), "tags": [],
                      "lastModifiedAt": r["modified"], "description": None,
                      "lastLifecycleState": None} for r in rows}  # fmt: skip


def _job(store: LineageStore, ns: str, name: str, io: dict[str, set[str]], data) -> dict:
    """Marquez ``JobData`` of one job, with its latest run."""
    args = [ns, name]
    where = "WHERE job_namespace = ? AND job_name = ?"
    span = store.query(f"SELECT min(event_time) AS c, max(event_time) AS u FROM run_events {where}",
                       args)[0]  # fmt: skip
    latest = None
    for r in store.query(f"FROM runs {where} ORDER BY last_seq DESC LIMIT 1", args):
        latest = {"id": r["run_id"], "state": RUN_STATES.get(r["status"], r["status"]),
                  "startedAt": r["started_at"], "endedAt": r["ended_at"]}  # fmt: skip
    ids = {side: [data[d]["id"] for d in sorted(io[side])] for side in ("inputs", "outputs")}
    return {"id": {"namespace": ns, "name": name}, "type": "BATCH", "name": name,
            "simpleName": name, "parentJobName": None, "createdAt": span["c"],
            "updatedAt": span["u"], "namespace": ns, **ids, "location": None,
            "description": None, "latestRun": latest}  # fmt: skip


def _node(node_id: str, kind: str, data: Any, ins: set, outs: set) -> dict[str, Any]:
    edges = [[{"origin": o, "destination": d} for o, d in sorted(side)] for side in (ins, outs)]
    return {"id": node_id, "type": kind, "data": data, "inEdges": edges[0], "outEdges": edges[1]}


def lineage_graph(store: LineageStore, node, depth: int, _down: bool) -> list[dict] | None:
    """Marquez's lineage graph around a dataset or job: datasets and the jobs between them."""
    kind, ns, name, _ = node
    if kind == "job":
        roots = {r["ds"] for r in store.query(
            "SELECT dst AS ds FROM dataset_edges WHERE job_namespace = ? AND job_name = ? "
            "UNION SELECT src FROM dataset_edges WHERE job_namespace = ? AND job_name = ?",
            [ns, name, ns, name])}  # fmt: skip
    else:
        roots = {r["ds"] for r in store.query("SELECT ds FROM datasets WHERE ds = ?",
                                               [dataset_id(ns, name)])}  # fmt: skip
    if not roots:
        return None
    pairs, ids = set(), set(roots)
    for root in roots:
        graph = queries.lineage(store, root, depth=depth)
        ids |= {n.dataset for n in graph.nodes}
        pairs |= {(e.source, e.target) for e in graph.edges}
    jobs: dict[tuple[str, str], dict[str, set[str]]] = {}
    for e in store.query("SELECT DISTINCT src, dst, job_namespace AS ns, job_name AS name "
                         "FROM dataset_edges"):  # fmt: skip
        if (e["src"], e["dst"]) in pairs:
            io = jobs.setdefault((e["ns"], e["name"]), {"inputs": set(), "outputs": set()})
            io["inputs"].add(e["src"])
            io["outputs"].add(e["dst"])
    data = _datasets(store, ids)
    nid = {d: f"dataset:{data[d]['namespace']}:{data[d]['name']}" for d in data}
    nodes = {i: ("DATASET", data[d], set(), set()) for d, i in nid.items()}
    for (jns, jname), io in jobs.items():
        jid = f"job:{jns}:{jname}"
        ins = {(nid[d], jid) for d in io["inputs"]}
        outs = {(jid, nid[d]) for d in io["outputs"]}
        nodes[jid] = ("JOB", _job(store, jns, jname, io, data), ins, outs)
        for origin, _ in ins:
            nodes[origin][3].add((origin, jid))
        for _, dest in outs:
            nodes[dest][2].add((jid, dest))
    return [_node(i, *nodes[i]) for i in sorted(nodes)]


def column_graph(store: LineageStore, node, depth: int, down: bool) -> list[dict] | None:
    """Marquez's column-lineage graph of one field, or of every field of a dataset."""
    kind, ns, name, field = node
    ds = dataset_id(ns, name)
    if kind == "job":
        return None  # a job's column lineage is not offered
    known = {c["column"] for c in queries.column_lineage(store, ds, field)}
    if not known:
        return None
    keys, links = {(ds, f) for f in known}, {}
    for f in known:
        graphs = [queries.upstream(store, ds, f, depth)]
        graphs += [queries.downstream(store, ds, f, depth)] if down else []
        for g in graphs:
            by_id = {n.id: (n.dataset, n.column) for n in g.nodes}
            keys |= set(by_id.values())
            links |= {(by_id[e.source], by_id[e.target]): e.transformation for e in g.edges}
    data = _datasets(store, {d for d, _ in keys})
    types = {(d, f["name"]): f["type"] for d in data for f in data[d]["fields"]}

    def ref(key) -> dict[str, Any]:
        meta = data.get(key[0], {"namespace": "", "name": key[0]})
        return {"namespace": meta["namespace"], "dataset": meta["name"], "field": key[1]}

    nid = {k: "datasetField:{namespace}:{dataset}:{field}".format(**ref(k)) for k in keys}
    out = []
    for key in sorted(keys, key=nid.__getitem__):
        inputs = [(src, how) for (src, dst), how in sorted(links.items()) if dst == key]
        fed = {nid[dst] for (src, dst) in links if src == key}
        first = inputs[0][1] if inputs else None
        body = {**ref(key), "fieldType": types.get(key), "transformationDescription": None,
                "transformationType": first, "inputFields": [
                    {**ref(src), "transformationDescription": None, "transformationType": how}
                    for src, how in inputs]}  # fmt: skip
        # Marquez puts the node itself as the origin of both its in- and out-edges.
        ins = {(nid[key], nid[src]) for src, _ in inputs}
        out.append(_node(nid[key], "DATASET_FIELD", body, ins, {(nid[key], d) for d in fed}))
    return out
