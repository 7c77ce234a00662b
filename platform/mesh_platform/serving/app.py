"""The FastAPI application: routes, their OpenAPI document, errors, and the worker lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path as FilePath
from typing import Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mesh_platform.serving import metrics
from mesh_platform.serving.answers import NotReady, accept_events, readiness, recommend
from mesh_platform.serving.champion import (
    ServingState,
    follow_journal,
    new_state,
    refresh,
    watch,
)
from mesh_platform.serving.config import ServeConfig
from mesh_platform.serving.events import MAX_ID, EventBatch, EventsAccepted, LandingFull
from mesh_platform.serving.gateway import Gateway
from mesh_platform.serving.index import dumps
from mesh_platform.serving.journal import JOURNAL_ENV, SessionJournal
from mesh_platform.serving.schemas import ErrorOut, HealthOut, ReadyOut, RecommendationsOut
from mesh_platform.settings import MeshPaths, mesh_paths

CONFIG_ENV = "MESH_SERVE_CONFIG"  # JSON of ServeConfig fields, passed to worker processes
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "Invalid input: the message names the field"},
    503: {"model": ErrorOut, "description": "Overloaded or nothing published yet: retry later"},
}


def _json(status: int, body: bytes, retry_after: int | None = None) -> Response:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return Response(body, status, headers=headers, media_type="application/json")


def _unavailable(state: ServingState, error: str, message: str) -> Response:
    body = dumps({"error": error, "message": message})
    return _json(503, body, state.config.retry_after_s)


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette/FastAPI HTTP errors (e.g. an undecodable body) in the service's error shape."""
    assert isinstance(exc, StarletteHTTPException)
    hint = "; send UTF-8 JSON" if exc.status_code == 400 else ""
    body = {"error": "bad_request" if exc.status_code == 400 else "http_error",
            "message": f"{request.url.path}: {exc.detail}{hint}"}  # fmt: skip
    return _json(exc.status_code, dumps(body))


def _invalid(request: Request, exc: Exception) -> Response:
    """422 naming each bad field, what is wrong and the value received."""
    assert isinstance(exc, RequestValidationError)
    detail = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"],
               "input": repr(e.get("input"))[:80]} for e in exc.errors()]  # fmt: skip
    summary = "; ".join(f"{d['field']}: {d['message']} (got {d['input']})" for d in detail)
    if any(d["field"].startswith("body") for d in detail):
        summary += '; send Content-Type: application/json and {"events": [{...}, ...]}'
    body = {"error": "invalid_request", "message": f"{request.url.path}: {summary}",
            "detail": detail}  # fmt: skip
    return _json(422, dumps(body))


@contextlib.asynccontextmanager
async def _lifespan(state: ServingState) -> AsyncIterator[None]:
    if state.writer is not None:
        state.writer.start()
    await refresh(state)  # the first index is loaded before the first request is accepted
    state.tasks.append(asyncio.create_task(watch(state)))
    if state.journal is not None:
        state.tasks.append(asyncio.create_task(follow_journal(state)))
    try:
        yield
    finally:
        for task in state.tasks:
            task.cancel()
        if state.writer is not None:
            await asyncio.to_thread(state.writer.close)


def _routes(api: FastAPI, state: ServingState) -> None:
    cfg = state.config

    @api.get("/v1/recommendations/{customer_id}", response_model=RecommendationsOut,
             responses=ERRORS, tags=["recommendations"])  # fmt: skip
    async def recommendations(
        customer_id: int = Path(ge=1, le=MAX_ID, description="customer id (positive integer)"),
        k: int = Query(cfg.default_k, ge=1, le=cfg.max_k, description="number of items"),
    ) -> Response:
        """Top-k recommendations; unknown customers get the popularity fallback, flagged."""
        try:
            return _json(200, recommend(state, customer_id, k))
        except NotReady as exc:
            return _unavailable(state, "not_ready", f"nothing to serve yet: {exc}")

    bad_body = {400: {"model": ErrorOut, "description": "The body is not UTF-8 JSON"}, **ERRORS}

    @api.post("/v1/events", status_code=202, response_model=EventsAccepted, responses=bad_body,
              tags=["events"])  # fmt: skip
    async def events(batch: EventBatch) -> Any:
        """Interactions (view, add_to_cart): re-rank the customer now, land for the batch side."""
        try:
            return accept_events(state, batch)
        except LandingFull as exc:
            return _unavailable(state, "landing_unavailable", f"events not accepted: {exc}")

    @api.get("/v1/health", response_model=HealthOut, tags=["operations"])
    async def health() -> Any:
        """Liveness: the process answers."""
        return {"status": "ok"}

    not_loaded: dict[int | str, dict[str, Any]] = {
        503: {"model": ReadyOut, "description": "No index loaded yet"}
    }

    @api.get("/v1/ready", response_model=ReadyOut, tags=["operations"], responses=not_loaded)
    async def ready() -> Response:
        """Readiness: an index is loaded; which model and snapshot it serves."""
        status, body = readiness(state)
        return _json(status, body, cfg.retry_after_s if status == 503 else None)

    @api.get("/metrics", tags=["operations"], responses={200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "Prometheus text exposition"}})  # fmt: skip
    async def prometheus() -> Response:
        """Prometheus metrics (all workers' samples when run with several workers)."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)


def create_app(
    paths: MeshPaths, config: ServeConfig | None = None, *, land_events: bool = True
) -> Gateway:
    """The ASGI app serving from ``paths``; its lifespan loads and then watches the index.

    Handlers are ``async def``: none blocks, and FastAPI would run plain ``def`` in a thread.

    Args:
        paths: The mesh (ports, registry, landing zone).
        config: Service settings; defaults when None.
        land_events: Write received events to the landing zone (tests may turn it off).
    """
    from mesh_platform.serving.events import LandingWriter

    config = config or ServeConfig()
    state = new_state(paths, config)
    if os.environ.get(JOURNAL_ENV):
        state.journal = SessionJournal(FilePath(os.environ[JOURNAL_ENV]), config.session_ttl_s)
    if land_events:
        state.writer = LandingWriter(paths.landing / "web", config.flush_interval_s,
                                     config.flush_max_events)  # fmt: skip
    api = FastAPI(
        title="mesh recommendations", version="1",
        description="Real-time recommendations served from the recommender champion's port.",
        lifespan=lambda _app: _lifespan(state),
    )  # fmt: skip
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    _routes(api, state)
    return Gateway(api, state)


def app_factory() -> Gateway:
    """Worker app factory: paths from MESH_HOME, settings from MESH_SERVE_CONFIG."""
    config = ServeConfig(**json.loads(os.environ.get(CONFIG_ENV) or "{}"))
    return create_app(mesh_paths(), config)
