"""HAProxy in front of serving replicas: its configuration, and its runtime API (stats socket)."""

from __future__ import annotations

import csv
import resource
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

BACKEND = "replicas"
READY_PATH = "/v1/ready"


@dataclass(frozen=True)
class BalancerConfig:
    """Where HAProxy listens, the replicas it balances, and how fast it notices a dead one.

    Attributes:
        host: Interface of the public port and the stats port.
        port: The public port (clients connect here).
        stats_port: HAProxy's stats page (``/stats``) and health (``/health``).
        replicas: Ports of the replicas, on 127.0.0.1; server ``i`` is named ``server_name(i)``.
        admin_socket: Unix socket of the runtime API (drain, ready, ``show stat``).
        check_ms: Milliseconds between health checks of a replica.
        fall: Failed checks before a replica is taken out.
        rise: Passed checks before it is put back.
        retries: Further attempts of a request whose connection failed, each on another replica.
    """

    host: str
    port: int
    stats_port: int
    replicas: tuple[int, ...]
    admin_socket: Path
    check_ms: int = 500
    fall: int = 2
    rise: int = 2
    retries: int = 3


def max_connections(limit: int = 20_000) -> int:
    """HAProxy's ``maxconn``: ``limit``, or what this process's open-file limit allows.

    HAProxy needs two descriptors a connection (client and server side) plus a few, and refuses
    to start when it cannot raise its limit that far ("Cannot raise FD limit to 40031, limit is
    20000" under a hard limit of 20,000).
    """
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return limit
    return max(64, min(limit, (hard - 100) // 2))


def server_name(index: int) -> str:
    """HAProxy's name of replica ``index`` (0-based): r1, r2, ..."""
    return f"r{index + 1}"


def render(cfg: BalancerConfig) -> str:
    """The haproxy.cfg text for ``cfg`` (see docs/serving.md, "Replicas behind HAProxy")."""
    servers = "\n".join(
        f"    server {server_name(i)} 127.0.0.1:{p}" for i, p in enumerate(cfg.replicas)
    )
    return f"""# Written by `mesh serve --replicas`: rewritten at every start, do not edit.
global
    stats socket {cfg.admin_socket} mode 600 level admin
    maxconn {max_connections()}

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 30s
    timeout http-keep-alive 30s
    timeout check 1s
    # A refused or reset connection (replica stopping or killed) and a connection closed with no
    # answer (replica died mid-request, or closed an idle keep-alive connection as the request
    # was sent) are retried, each retry on another replica.
    retries {cfg.retries}
    option redispatch 1
    retry-on conn-failure empty-response

frontend serve
    bind {cfg.host}:{cfg.port}
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    option httpchk GET {READY_PATH}
    http-check expect status 200
    # Only GET/HEAD are resent once sent: a POST may have been acted on (events counted twice).
    http-request disable-l7-retry if !METH_GET
    default-server check inter {cfg.check_ms} fastinter {cfg.check_ms // 2} \
downinter {cfg.check_ms} fall {cfg.fall} rise {cfg.rise}
{servers}

frontend stats
    bind {cfg.host}:{cfg.stats_port}
    stats enable
    stats uri /stats
    stats refresh 2s
    monitor-uri /health
    monitor fail if {{ nbsrv({BACKEND}) lt 1 }}
"""


def haproxy_binary() -> str | None:
    """The haproxy executable (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def command(admin_socket: Path, line: str, timeout: float = 5.0) -> str:
    """Send one runtime API command (e.g. ``set server replicas/r1 state drain``); its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(admin_socket))
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):  # the socket closes after one command
            chunks.append(chunk)
    return b"".join(chunks).decode()


def servers(admin_socket: Path) -> dict[str, dict[str, str]]:
    """``show stat`` of the backend's servers: name -> fields (``status``, ``scur``, ``wretr``)."""
    text = command(admin_socket, "show stat").lstrip("# ")
    rows = csv.DictReader(line for line in text.splitlines() if line)
    return {r["svname"]: r for r in rows if r["pxname"] == BACKEND and r["svname"] != "BACKEND"}


def set_state(admin_socket: Path, index: int, state: str) -> None:
    """Set replica ``index`` to ``ready``, ``drain`` or ``maint`` (runtime API)."""
    answer = command(admin_socket, f"set server {BACKEND}/{server_name(index)} state {state}")
    if answer.strip():
        raise RuntimeError(f"haproxy refused 'state {state}': {answer.strip()}")
