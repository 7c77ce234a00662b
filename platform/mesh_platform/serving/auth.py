"""Bearer-token protection of the service's writes (and, when configured, reads).

The gateway checks the header before anything else reads the request (its body, the fast
path's answer); the routes repeat the check as a FastAPI security dependency, which also
declares the bearer scheme in the OpenAPI document of exactly the routes that need it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Security
from fastapi.params import Depends
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mesh_platform.access.tokens import SERVE, ApiAuth, challenge
from mesh_platform.serving.index import dumps

OPEN = ApiAuth(SERVE)  # no token: the embedded default on loopback
REALM = "mesh serve"


class Unauthorized(Exception):
    """A protected route was called without the configured token."""

    def __init__(self, problem: str) -> None:
        """``problem``: what is missing or wrong (never the token sent)."""
        super().__init__(problem)
        self.problem = problem


def unauthorized_body(method: str, path: str, problem: str) -> bytes:
    """The 401 body, in the service's error shape."""
    return dumps({"error": "unauthorized", "message": f"{method} {path}: {problem}"})


def unauthorized(request: Request, exc: Exception) -> Response:
    """Exception handler: 401 with ``WWW-Authenticate``."""
    assert isinstance(exc, Unauthorized)
    body = unauthorized_body(request.method, request.url.path, exc.problem)
    headers = {"www-authenticate": challenge(REALM, exc.problem)}
    return Response(body, 401, headers=headers, media_type="application/json")


async def send_unauthorized(scope: Any, send: Any, problem: str) -> int:
    """Answer 401 on the raw ASGI channel (the gateway's early check); returns the status."""
    body = unauthorized_body(scope["method"], scope["path"], problem)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"www-authenticate", challenge(REALM, problem).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return 401


def header(scope: Any, name: bytes) -> str | None:
    """One request header from the ASGI scope (latin-1, as HTTP headers are)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def guard(auth: ApiAuth, write: bool) -> list[Depends]:
    """Route dependencies requiring the token (none when ``auth`` does not require it here)."""
    if not auth.required(write):
        return []
    scheme = HTTPBearer(auto_error=False, scheme_name="bearerToken", description=(
        f"The token configured in {auth.source}."))  # fmt: skip

    async def require_token(
        request: Request,
        _credentials: HTTPAuthorizationCredentials | None = Security(scheme),  # noqa: B008
    ) -> None:
        # The header is re-read rather than taken from HTTPBearer: its None does not say
        # whether the header was missing or not a bearer token, and the 401 names which.
        problem = auth.problem(request.headers.get("authorization"))
        if problem is not None:
            raise Unauthorized(problem)

    return [Security(require_token)]
