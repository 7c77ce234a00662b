"""A Marquez-compatible OpenLineage HTTP API over the local lineage log and store."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from openlineage.client.serde import Serde
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mesh_platform.lineage import queries
from mesh_platform.lineage.log import EVENTS, append_events, canonical
from mesh_platform.lineage.store import LineageStore, dataset_id, open_store
from mesh_platform.settings import MeshPaths

DEFAULT_DEPTH = 20  # Marquez's default
RUN_STATES = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED",
              "FAIL": "FAILED", "ABORT": "ABORTED"}  # fmt: skip


def event_key(event: dict[str, Any]) -> str:
    """Identity of an event for idempotent ingestion: the hash of its canonical JSON.

    Nulls are dropped first, as the openlineage client drops them before sending, so an event
    logged locally and the same event delivered over HTTP have one key.
    """
    return hashlib.sha256(canonical(Serde.to_dict(event)).encode()).hexdigest()


def problems(event: Any) -> list[str]:
    """What keeps ``event`` from being a minimal OpenLineage RunEvent (empty when none)."""
    if not isinstance(event, dict):
        return ["the body must be one OpenLineage event, a JSON object"]
    found = []
    try:
        datetime.fromisoformat(str(event["eventTime"]))
    except (KeyError, ValueError):
        found.append("eventTime is required, as an ISO 8601 timestamp")
    run, job = event.get("run"), event.get("job")
    try:
        uuid.UUID(str(run["runId"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        found.append("run.runId is required, as a UUID")
    for key in ("namespace", "name"):
        if not isinstance(job, dict) or not isinstance(job.get(key), str) or not job[key]:
            found.append(f"job.{key} is required, as a non-empty string")
    return found


class Ingest:
    """Appends posted events to the local log, each distinct event once."""

    def __init__(self, folder: Path):
        """Index the events already in the log in ``folder``."""
        self.folder = folder
        self._seen: set[str] = set()
        self._offset = 0
        self.received = self.stored = 0  # since start: lets operators and tests see repeats
        self._lock = threading.Lock()
        with self._lock:
            self._catch_up()

    def _catch_up(self) -> None:
        """Index events appended to the log since the last look, by any process."""
        path = self.folder / EVENTS
        if not path.exists():
            return
        if path.stat().st_size < self._offset:  # the log was cut: index it again
            self._seen, self._offset = set(), 0
        with path.open("rb") as fh:
            fh.seek(self._offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                self._offset += len(raw)
                try:
                    self._seen.add(event_key(json.loads(raw)))
                except ValueError:  # a damaged line: `mesh lineage verify` reports it, not us
                    continue

    def add(self, event: dict[str, Any]) -> bool:
        """Log ``event`` unless an identical one is already logged; True if it was stored."""
        key = event_key(event)
        with self._lock:
            self.received += 1
            self._catch_up()
            if key in self._seen:
                return False
            append_events(self.folder, [event])
            self._seen.add(key)
            self.stored += 1
            return True


async def post_lineage(request: Request) -> Response:
    """``POST /api/v1/lineage``: store one OpenLineage event (201, also for a repeat)."""
    body = await request.body()
    try:
        if request.headers.get("content-encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        event = json.loads(body)
    except (OSError, ValueError) as exc:
        return _error(400, f"the body is not valid JSON: {exc}")
    found = problems(event)
    if found:
        return _error(400, "not an OpenLineage RunEvent: " + "; ".join(found), problems=found)
    stored = await run_in_threadpool(request.app.state.ingest.add, event)
    return JSONResponse({"stored": stored}, status_code=201)


async def health(request: Request) -> Response:
    """``GET /api/v1/health``, with the events received and stored since start."""
    ingest: Ingest = request.app.state.ingest
    return JSONResponse({"status": "ok", "received": ingest.received, "stored": ingest.stored})


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


def _error(status: int, message: str, **details: Any) -> JSONResponse:
    """An error body shaped like Marquez's (``code``, ``message``)."""
    return JSONResponse({"code": status, "message": message, **details}, status_code=status)


async def _graph_reply(request: Request, build) -> Response:
    """Parse nodeId/depth, sync the store, and answer ``{"graph": build(...)}`` or an error."""
    try:
        node = parse_node_id(request.query_params.get("nodeId", ""))
        depth = int(request.query_params.get("depth", DEFAULT_DEPTH))
    except ValueError as exc:
        return _error(400, str(exc))
    down = request.query_params.get("withDownstream", "false").lower() == "true"
    state = request.app.state

    def answer() -> list[dict[str, Any]] | None:
        with state.store_lock, open_store(state.paths.lineage) as store:
            return build(store, node, depth, down)

    graph = await run_in_threadpool(answer)
    if graph is None:
        return _error(404, f"node {request.query_params['nodeId']} not found")
    return JSONResponse({"graph": graph})


async def get_lineage(request: Request) -> Response:
    """``GET /api/v1/lineage?nodeId=...&depth=N``: Marquez's dataset/job graph."""
    return await _graph_reply(request, lineage_graph)


async def get_column_lineage(request: Request) -> Response:
    """``GET /api/v1/column-lineage?nodeId=...&depth=N&withDownstream=bool``: column graph."""
    return await _graph_reply(request, column_graph)


def create_app(paths: MeshPaths) -> Starlette:
    """The API over the lineage folder of ``paths`` ($MESH_HOME/lineage)."""
    app = Starlette(
        routes=[
            Route("/api/v1/lineage", post_lineage, methods=["POST"]),
            Route("/api/v1/lineage", get_lineage, methods=["GET"]),
            Route("/api/v1/column-lineage", get_column_lineage, methods=["GET"]),
            Route("/api/v1/health", health, methods=["GET"]),
        ]
    )
    app.state.paths = paths
    app.state.ingest = Ingest(paths.lineage)
    app.state.store_lock = threading.Lock()
    return app


def serve(paths: MeshPaths, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Run the API in the foreground until interrupted."""
    uvicorn.run(create_app(paths), host=host, port=port, log_level="info")


@contextmanager
def running(paths: MeshPaths, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the API in a background thread (tests, embedding); yields its base URL."""
    config = uvicorn.Config(create_app(paths), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"lineage API failed to start on {host}:{port}")
        threading.Event().wait(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(10)
