"""The FastAPI application: errors, the worker lifecycle, and the app factory (routes.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path as FilePath

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mesh_platform.access.tokens import SERVE, ApiAuth, load_auth
from mesh_platform.serving.auth import OPEN, Unauthorized, unauthorized
from mesh_platform.serving.champion import ServingState, follow_journal, new_state, refresh, watch
from mesh_platform.serving.config import ServeConfig
from mesh_platform.serving.gateway import Gateway
from mesh_platform.serving.index import dumps
from mesh_platform.serving.journal import JOURNAL_ENV, SessionJournal
from mesh_platform.serving.routes import add_routes, json_response
from mesh_platform.settings import MeshPaths, mesh_paths

CONFIG_ENV = "MESH_SERVE_CONFIG"  # JSON of ServeConfig fields, passed to worker processes


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette/FastAPI HTTP errors (e.g. an undecodable body) in the service's error shape."""
    assert isinstance(exc, StarletteHTTPException)
    hint = "; send UTF-8 JSON" if exc.status_code == 400 else ""
    body = {"error": "bad_request" if exc.status_code == 400 else "http_error",
            "message": f"{request.url.path}: {exc.detail}{hint}"}  # fmt: skip
    return json_response(exc.status_code, dumps(body))


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
    return json_response(422, dumps(body))


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


def create_app(
    paths: MeshPaths, config: ServeConfig, *, land_events: bool = True, auth: ApiAuth = OPEN
) -> Gateway:
    """The ASGI app serving from ``paths``; its lifespan loads and then watches the index.

    Handlers are ``async def``: none blocks, and FastAPI would run plain ``def`` in a thread.

    Args:
        paths: The mesh (ports, registry, landing zone).
        config: What is served (``config.ports``) and the service's settings.
        land_events: Hand received events on to the landing zone (when ``config.ports.landing``
            names a folder; tests may turn it off): as files, or through the broker that
            MESH_EVENTS_URL names (docs/serving.md).
        auth: The token writes (and maybe reads) require; open by default.
    """
    from mesh_platform.serving.bus_writer import event_writer

    state = new_state(paths, config)
    served = config.ports
    if os.environ.get(JOURNAL_ENV):
        state.journal = SessionJournal(FilePath(os.environ[JOURNAL_ENV]), config.session_ttl_s)
    if land_events and served.landing:
        state.writer = event_writer(paths, config, served.landing)
    api = FastAPI(
        title=f"mesh {served.path_name}", version="1",
        description=f"Real-time answers served from {served.predictions}, scored by the "
                    f"{served.model_name} champion.",
        lifespan=lambda _app: _lifespan(state),
    )  # fmt: skip
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(Unauthorized, unauthorized)
    add_routes(api, state, auth)
    return Gateway(api, state, auth)


def app_factory() -> Gateway:
    """Worker app factory: paths from MESH_HOME, settings from MESH_SERVE_CONFIG.

    The token is read here from the environment (or its file), not passed in MESH_SERVE_CONFIG:
    the configuration is a plain environment variable, the token stays where it was mounted.
    """
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{CONFIG_ENV} is not set: start workers with `mesh serve`")
    return create_app(mesh_paths(), ServeConfig.from_json(text), auth=load_auth(SERVE))
