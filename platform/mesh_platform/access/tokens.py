"""Bearer tokens of the mesh's HTTP services: configuration, the check, and the loopback rule."""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVE, LINEAGE = "MESH_SERVE", "MESH_LINEAGE"  # prefixes of each service's variables
SHARED = "MESH_API"  # one token for every service that names none of its own
MIN_LENGTH = 16
WRONG_TOKEN = "the bearer token is not the one configured in"
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class TokenConfigError(ValueError):
    """The token configuration is unusable; the message names variables, never a token."""


@dataclass(frozen=True)
class ApiAuth:
    """What a service requires of its callers.

    Attributes:
        service: Prefix of the service's variables (``MESH_SERVE``, ``MESH_LINEAGE``).
        token: The bearer token writes need; None when the service is open (not in repr).
        protect_reads: Reads of data need the token too.
        source: The variable the token came from, for messages.
    """

    service: str
    token: str | None = field(default=None, repr=False)
    protect_reads: bool = False
    source: str = ""

    def required(self, write: bool) -> bool:
        """Whether a write (or, with ``write`` False, a read of data) needs the token."""
        return self.token is not None and (write or self.protect_reads)

    def problem(self, authorization: str | None) -> str | None:
        """What is wrong with an ``Authorization`` header value; None when it carries the token.

        The comparison takes the same time wherever the given token differs (no timing oracle),
        and no message repeats what was sent.
        """
        assert self.token is not None, "problem() of an open service"
        how = f"send 'Authorization: Bearer <token>' with the token configured in {self.source}"
        if not authorization:
            return f"the Authorization header is missing: {how}"
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return f"the Authorization header is not a bearer token: {how}"
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return f"{WRONG_TOKEN} {self.source}"
        return None


def challenge(realm: str, problem: str) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750): ``invalid_token`` for a wrong one."""
    wrong = ', error="invalid_token"' if problem.startswith(WRONG_TOKEN) else ""
    return f'Bearer realm="{realm}"{wrong}'


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value not in _YES + _NO:
        raise TokenConfigError(f"{name}={value!r}: use 1 (or true/yes/on) or 0 (false/no/off)")
    return value in _YES


def _checked(token: str, source: str) -> str:
    """``token`` if it can travel in a header and is not trivially guessed."""
    if not all("!" <= c <= "~" for c in token):
        raise TokenConfigError(f"{source}: the token must be printable ASCII without spaces")
    if len(token) < MIN_LENGTH:
        raise TokenConfigError(
            f"{source}: the token has {len(token)} characters, use at least {MIN_LENGTH} "
            "(e.g. `openssl rand -hex 32`)"
        )
    return token


def _token_of(prefix: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(token, variable) from ``<prefix>_TOKEN`` or the file ``<prefix>_TOKEN_FILE`` names."""
    var, file_var = f"{prefix}_TOKEN", f"{prefix}_TOKEN_FILE"
    value, path = env.get(var, "").strip(), env.get(file_var, "").strip()
    if value and path:
        raise TokenConfigError(f"{var} and {file_var} are both set: keep one")
    if path:
        try:
            # Mounted secrets often end with a newline; it is not part of the token.
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenConfigError(f"{file_var}={path}: cannot read it ({exc})") from None
        if not value:
            raise TokenConfigError(f"{file_var}={path}: the file is empty")
        return _checked(value, f"{file_var} ({path})"), file_var
    return (_checked(value, var), var) if value else None


def load_auth(service: str, environ: Mapping[str, str] | None = None) -> ApiAuth:
    """The service's requirements: its own token variables first, then the shared ones.

    Args:
        service: ``SERVE`` or ``LINEAGE`` (a variable prefix).
        environ: Variables to read (default: the process environment).

    Raises:
        TokenConfigError: a token is unreadable, malformed or given twice, or reads are to be
            protected while no token is configured.
    """
    env = os.environ if environ is None else environ
    found = _token_of(service, env) or _token_of(SHARED, env)
    reads_var = f"{service}_PROTECT_READS"
    reads = _flag(env, reads_var) if env.get(reads_var) else _flag(env, f"{SHARED}_PROTECT_READS")
    if reads and found is None:
        raise TokenConfigError(
            f"{reads_var} (or {SHARED}_PROTECT_READS) asks for protected reads but no token is "
            f"configured: set {service}_TOKEN or {service}_TOKEN_FILE"
        )
    token, source = found or (None, "")
    return ApiAuth(service, token, reads, source)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name, all of whose addresses count) is loopback only."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False  # unresolvable: the server cannot bind it either; never assume loopback
    addresses = {str(info[4][0]).split("%")[0] for info in infos}  # fe80::1%eth0: no scope
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def exposure_problem(host: str, auth: ApiAuth) -> str | None:
    """Why listening on ``host`` without a token is refused; None when it is safe."""
    if auth.token is not None or is_loopback(host):
        return None
    return (
        f"--host {host} is reachable beyond this machine and no token is configured: set "
        f"{auth.service}_TOKEN (or {auth.service}_TOKEN_FILE, a mounted secret's path; or "
        f"{SHARED}_TOKEN for every service) so writes require it, or pass --insecure to run "
        "without one"
    )
