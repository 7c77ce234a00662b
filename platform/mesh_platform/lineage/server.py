"""A Marquez-compatible OpenLineage HTTP API over the local lineage log and store."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mesh_platform.access.tokens import LINEAGE, ApiAuth, challenge
from mesh_platform.lineage.marquez import column_graph, lineage_graph, parse_node_id
from mesh_platform.lineage.receive import Ingest, problems
from mesh_platform.lineage.store import open_store
from mesh_platform.settings import MeshPaths

DEFAULT_DEPTH = 20  # Marquez's default
OPEN = ApiAuth(LINEAGE)  # no token: the embedded default on loopback
Handler = Callable[[Request], Awaitable[Response]]


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


def _error(status: int, message: str, headers: dict[str, str] | None = None,
           **details: Any) -> JSONResponse:  # fmt: skip
    """An error body shaped like Marquez's (``code``, ``message``)."""
    body = {"code": status, "message": message, **details}
    return JSONResponse(body, status_code=status, headers=headers)


def guarded(handler: Handler, auth: ApiAuth, write: bool) -> Handler:
    """``handler`` behind the bearer token when ``auth`` requires it for this kind of route."""
    if not auth.required(write):
        return handler

    async def check_token(request: Request) -> Response:
        problem = auth.problem(request.headers.get("authorization"))
        if problem is None:
            return await handler(request)
        header = {"www-authenticate": challenge("mesh lineage", problem)}
        return _error(401, f"{request.method} {request.url.path}: {problem}", header)

    return check_token


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


def create_app(paths: MeshPaths, auth: ApiAuth = OPEN) -> Starlette:
    """The API over the lineage folder of ``paths`` ($MESH_HOME/lineage).

    With a token configured, posting needs it and (``protect_reads``) so do the graph reads;
    the health route stays open for probes.
    """
    app = Starlette(
        routes=[
            Route("/api/v1/lineage", guarded(post_lineage, auth, True), methods=["POST"]),
            Route("/api/v1/lineage", guarded(get_lineage, auth, False), methods=["GET"]),
            Route(
                "/api/v1/column-lineage", guarded(get_column_lineage, auth, False), methods=["GET"]
            ),  # fmt: skip
            Route("/api/v1/health", health, methods=["GET"]),
        ]
    )
    app.state.paths = paths
    app.state.ingest = Ingest(paths.lineage)
    app.state.store_lock = threading.Lock()
    return app


def serve(
    paths: MeshPaths, host: str = "127.0.0.1", port: int = 5000, auth: ApiAuth = OPEN
) -> None:
    """Run the API in the foreground until interrupted (access log on: it logs no headers)."""
    uvicorn.run(create_app(paths, auth), host=host, port=port, log_level="info")


@contextmanager
def running(
    paths: MeshPaths, host: str = "127.0.0.1", port: int = 0, auth: ApiAuth = OPEN
) -> Iterator[str]:
    """Run the API in a background thread (tests, embedding); yields its base URL."""
    config = uvicorn.Config(create_app(paths, auth), host=host, port=port, log_level="warning")
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
