"""The HTTP routes and their OpenAPI document, named after the served port and its columns.

``GET /v1/<predictions port>/{<entity column>}`` answers with items keyed by the port's item and
group columns; ``POST /v1/events`` takes events whose ids carry the same names. The endpoints'
signatures are built from the configuration, so the documented names are the served ones.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI, Path, Query
from fastapi.responses import Response

from mesh_platform.access.tokens import ApiAuth
from mesh_platform.serving import metrics
from mesh_platform.serving.answers import NotReady, accept_events, readiness, recommend
from mesh_platform.serving.auth import guard
from mesh_platform.serving.champion import ServingState
from mesh_platform.serving.events import MAX_ID, EventsAccepted, event_models
from mesh_platform.serving.index import dumps
from mesh_platform.serving.landing import LandingFull
from mesh_platform.serving.schemas import ErrorOut, HealthOut, ReadyOut, answer_model

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "Invalid input: the message names the field"},
    503: {"model": ErrorOut, "description": "Overloaded or nothing published yet: retry later"},
}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or not the configured bearer token"},
}
KW = inspect.Parameter.KEYWORD_ONLY


def _protected(auth: ApiAuth, write: bool) -> dict[str, Any]:
    """Route arguments requiring the token (and documenting the 401) where ``auth`` asks for it."""
    deps = guard(auth, write)
    return {"dependencies": deps, "responses": UNAUTHORIZED if deps else {}}


def json_response(status: int, body: bytes, retry_after: int | None = None) -> Response:
    """A JSON response from pre-serialised bytes."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return Response(body, status, headers=headers, media_type="application/json")


def unavailable(state: ServingState, error: str, message: str) -> Response:
    """A deliberate 503 with Retry-After."""
    body = dumps({"error": error, "message": message})
    return json_response(503, body, state.config.retry_after_s)


def _answer_route(api: FastAPI, state: ServingState, auth: ApiAuth) -> None:
    cfg, served = state.config, state.config.ports
    entity = served.entity

    async def answer(**params: Any) -> Response:
        try:
            return json_response(200, recommend(state, params[entity], params["k"]))
        except NotReady as exc:
            return unavailable(state, "not_ready", f"nothing to serve yet: {exc}")

    answer.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(entity, KW, annotation=int, default=Path(
            ge=1, le=MAX_ID, description=f"{entity} (positive integer)")),
        inspect.Parameter("k", KW, annotation=int, default=Query(
            cfg.default_k, ge=1, le=cfg.max_k, description="number of items")),
    ])  # fmt: skip
    answer.__doc__ = (f"Top-k {served.item} for one {entity} from {served.predictions}; "
                      "unknown ones get the popularity fallback, flagged.")  # fmt: skip
    protected = _protected(auth, write=False)
    api.add_api_route(
        f"/v1/{served.path_name}/{{{entity}}}", answer, methods=["GET"],
        responses={**protected["responses"], **ERRORS}, dependencies=protected["dependencies"],
        response_model=answer_model(entity, served.item, served.group), name=served.path_name,
        tags=[served.path_name],
    )  # fmt: skip


def _events_route(api: FastAPI, state: ServingState, auth: ApiAuth) -> None:
    served = state.config.ports
    batch_model = event_models(served.entity, served.item, [e for e, _ in served.event_weights])

    async def events(batch: Any) -> Any:
        try:
            return accept_events(state, batch)
        except LandingFull as exc:
            return unavailable(state, "landing_unavailable", f"events not accepted: {exc}")

    events.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("batch", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=batch_model)])  # fmt: skip
    events.__doc__ = f"Interactions: re-rank the {served.entity} now, land for the batch side."
    protected = _protected(auth, write=True)
    bad_body = {400: {"model": ErrorOut, "description": "The body is not UTF-8 JSON"},
                **protected["responses"], **ERRORS}  # fmt: skip
    api.add_api_route("/v1/events", events, methods=["POST"], status_code=202, tags=["events"],
                      response_model=EventsAccepted, responses=bad_body,
                      dependencies=protected["dependencies"])  # fmt: skip


def add_routes(api: FastAPI, state: ServingState, auth: ApiAuth) -> None:
    """Register every route of the service on ``api``; probes and metrics never need a token."""
    _answer_route(api, state, auth)
    _events_route(api, state, auth)
    retry = state.config.retry_after_s

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
        return json_response(status, body, retry if status == 503 else None)

    @api.get("/metrics", tags=["operations"], responses={200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "Prometheus text exposition"}})  # fmt: skip
    async def prometheus() -> Response:
        """Prometheus metrics (all workers' samples when run with several workers)."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)
