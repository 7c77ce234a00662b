"""Admission control: past a bound of admitted requests, answer 503 + Retry-After at once.

Handlers here never wait on I/O, so requests do not pile up inside the application: they pile
up as uvicorn tasks created for parsed requests and not yet run. uvicorn keeps those in
``server_state.tasks``; ``MeshServer`` exposes that set, and the admission check reads its size
in O(1). (uvicorn's own ``--limit-concurrency`` also counts idle keep-alive connections, so a
proxy holding many idle connections would trip it, and its 503 carries no Retry-After.)
"""

from __future__ import annotations

from typing import Any

import uvicorn

from mesh_platform.serving.index import dumps

_server_state: Any = None  # uvicorn's ServerState of this worker process, once serving


class MeshServer(uvicorn.Server):
    """uvicorn's server, publishing its state so admission control can count queued requests."""

    async def serve(self, sockets: Any = None) -> None:
        """Serve, with this process's request tasks visible to `Admission`."""
        global _server_state
        _server_state = self.server_state
        await super().serve(sockets)


class Admission:
    """Bounded admission: a request is admitted while at most ``limit`` are pending."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        """Shed beyond ``limit`` pending requests, asking clients to retry after some seconds."""
        self.limit, self.retry_after_s = limit, retry_after_s
        self.inflight = 0  # requests inside the application (when not run by MeshServer)
        self.body = dumps({
            "error": "overloaded",
            "message": f"the service is at capacity ({limit} requests pending); "
                       f"retry after {retry_after_s} s",
        })  # fmt: skip
        self.headers = [(b"content-type", b"application/json"),
                        (b"retry-after", str(retry_after_s).encode()),
                        (b"content-length", str(len(self.body)).encode())]  # fmt: skip

    def pending(self) -> int:
        """Requests parsed and not yet answered by this worker (this one included)."""
        state = _server_state
        return len(state.tasks) if state is not None else self.inflight

    def admit(self) -> bool:
        """Whether one more request may be served now."""
        return self.pending() <= self.limit

    async def shed(self, send: Any) -> int:
        """Answer 503 with Retry-After; returns the status sent."""
        await send({"type": "http.response.start", "status": 503, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})
        return 503
