"""A Marquez-compatible OpenLineage HTTP API over the local lineage log and store."""

from __future__ import annotations

import gzip
import hashlib
import json
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

from mesh_platform.lineage.log import EVENTS, append_events, canonical
from mesh_platform.lineage.marquez import column_graph, lineage_graph, parse_node_id
from mesh_platform.lineage.store import open_store
from mesh_platform.settings import MeshPaths

DEFAULT_DEPTH = 20  # Marquez's default


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
