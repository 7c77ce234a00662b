"""The outer ASGI layer: admission control, metrics, and the fast path of the hot GET.

The fast path answers ``GET /v1/<port>/<digits>[?k=<digits>]`` without FastAPI's routing and
validation (about half the per-request cost, see docs/serving.md). It handles only requests
that are valid by construction and hands anything else to the FastAPI route, which owns the
documented contract and its error messages; both call the same `answers.recommend`.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from mesh_platform.access.tokens import ApiAuth
from mesh_platform.serving import metrics
from mesh_platform.serving.answers import NotReady, recommend
from mesh_platform.serving.auth import header, send_unauthorized
from mesh_platform.serving.champion import ServingState

ROUTES = {"/v1/events": "events", "/v1/health": "health", "/v1/ready": "ready",
          "/metrics": "metrics"}  # fmt: skip
UNSHED = {"health", "ready", "metrics"}  # probes and metrics always answer
MAX_ID_DIGITS = 18  # every 18-digit number fits a signed 64-bit id
JSON = [(b"content-type", b"application/json")]


def route_of(path: str, prefix: str, label: str) -> str:
    """The metrics label of a path (bounded cardinality): ``label`` for the answer route."""
    if path.startswith(prefix):
        return label
    return ROUTES.get(path, "other")


class Gateway:
    """Wraps the FastAPI app: shed, time and count every HTTP request; serve hot GETs directly."""

    def __init__(self, app: Any, state: ServingState, auth: ApiAuth) -> None:
        """Wrap ``app`` (the FastAPI application) serving from ``state``, guarded by ``auth``."""
        self.app, self.state, self.auth = app, state, auth
        # Routes needing the token; checked before the body is read or the fast path answers.
        self.guarded = {r for r, write in (("events", True), (state.config.ports.path_name, False))
                        if auth.required(write)}  # fmt: skip
        self.max_k, self.default_k = state.config.max_k, state.config.default_k
        self.label = state.config.ports.path_name  # the answer route's metrics label
        self.prefix = f"/v1/{self.label}/"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, route = perf_counter(), route_of(scope["path"], self.prefix, self.label)
        admission, status = self.state.admission, 500
        try:
            if route in self.guarded:
                problem = self.auth.problem(header(scope, b"authorization"))
                if problem is not None:
                    status = await send_unauthorized(scope, send, problem)
                    return
            if route not in UNSHED and not admission.admit():
                metrics.SHED.inc()
                status = await admission.shed(send)
                return
            admission.inflight += 1
            try:
                fast = route == self.label and scope["method"] == "GET"
                status = (await self._fast(scope, send) if fast else 0) or await self._full(
                    scope, receive, send
                )
            finally:
                admission.inflight -= 1
        finally:
            metrics.observe(route, status, perf_counter() - start)

    def _parse(self, scope: Any) -> tuple[int, int] | None:
        """(entity id, k) when the request is valid by construction, else None."""
        rest = scope["path"][len(self.prefix) :]
        if not (rest.isascii() and rest.isdigit() and len(rest) <= MAX_ID_DIGITS) or rest[0] == "0":
            return None
        query: bytes = scope["query_string"]
        if not query:
            return int(rest), self.default_k
        if query[:2] != b"k=" or not query[2:].isdigit() or len(query) > 6:
            return None
        k = int(query[2:])
        return (int(rest), k) if 1 <= k <= self.max_k else None

    async def _fast(self, scope: Any, send: Any) -> int:
        parsed = self._parse(scope)
        if parsed is None:
            return 0
        try:
            body = recommend(self.state, *parsed)
        except NotReady:
            return 0  # the documented route gives the 503 and its message
        headers = [*JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return 200

    async def _full(self, scope: Any, receive: Any, send: Any) -> int:
        status = [500]

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        return status[0]
