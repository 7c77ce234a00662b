"""`mesh serve`: the real-time API (FastAPI on uvicorn) of a product's ``serving:`` block."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from mesh_platform.cli.api_auth import INSECURE_HELP, checked_auth
from mesh_platform.settings import mesh_paths

console = Console()
err_console = Console(stderr=True)
PRODUCT = re.compile(r"^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$")
REPLICA = [sys.executable, "-m", "mesh_platform.cli", "serve", "--host", "127.0.0.1"]


def _listen_and_product(port: str, product: str | None) -> tuple[int, str | None]:
    """``--port`` is a TCP port, or (as the issue spells it) DOMAIN/PRODUCT: split the two."""
    if PRODUCT.match(port):
        if product is not None and product != port:
            raise typer.BadParameter(f"names {port}, and --product names {product}: give one",
                                     param_hint="--port")  # fmt: skip
        return 8000, port
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise typer.BadParameter(f"{port!r} is neither a TCP port (1-65535) nor DOMAIN/PRODUCT",
                                 param_hint="--port")  # fmt: skip
    return int(port), product


def serve_cmd(
    product: str | None = typer.Option(
        None, help="DOMAIN/PRODUCT whose 'serving:' block to serve (default: the only one)."
    ),
    host: str = typer.Option(
        "127.0.0.1", help="Interface to listen on; beyond loopback MESH_SERVE_TOKEN is required."
    ),
    port: str = typer.Option("8000", help="TCP port (or DOMAIN/PRODUCT, as --product)."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes sharing the port."),
    max_pending: int = typer.Option(64, min=1, help="Pending requests per worker before 503."),
    poll_interval: float = typer.Option(1.0, min=0.05, help="Seconds between champion checks."),
    flush_interval: float = typer.Option(5.0, min=0.05, help="Max seconds before events land."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    insecure: bool = typer.Option(False, "--insecure", help=INSECURE_HELP),
    replicas: int = typer.Option(
        1, min=1, max=16, help="N > 1: N `mesh serve` processes behind HAProxy on --port."
    ),
    stats_port: int = typer.Option(0, min=0, max=65535, help="HAProxy stats (0: a free port)."),
) -> None:
    """Serve the ranked predictions a product's ``serving:`` block names, from its champion.

    Docs at /docs, OpenAPI at /openapi.json, Prometheus metrics at /metrics. Exit 2 when the mesh
    declares nothing (or nothing valid, or several products and no --product) to serve, and
    when --host is not loopback and no token is configured (docs/serving.md, "Tokens"). With
    --replicas N, SIGHUP restarts the replicas one at a time without failing a request.
    """
    from mesh_platform.access.tokens import SERVE
    from mesh_platform.ports.lakehouse import warehouse
    from mesh_platform.serving.binding import ServeSetupError, load_served
    from mesh_platform.serving.config import ServeConfig
    from mesh_platform.serving.server import serve

    tcp, wanted = _listen_and_product(port, product)
    auth = checked_auth(SERVE, host, insecure)
    paths = mesh_paths()
    try:
        served, window = load_served(paths.root, wanted)
    except ServeSetupError as exc:
        for line in str(exc).splitlines():
            err_console.print(f"[red]error[/] {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    config = ServeConfig(served, max_pending=max_pending, poll_interval_s=poll_interval,
                         flush_interval_s=flush_interval, popular_window_days=window)  # fmt: skip
    url = f"http://{host}:{tcp}/v1/{served.path_name}/{{{served.entity}}}"
    where = warehouse(paths.home)
    console.print(f"{served.predictions} ({served.model_name} champion) on {url} "
                  f"({workers} worker(s)) serving {where}", highlight=False)  # fmt: skip
    if auth.token is not None:
        reads = "writes and reads" if auth.protect_reads else "writes"
        console.print(f"{reads} require the bearer token of {auth.source}", highlight=False)
    if replicas > 1:
        argv = [*REPLICA, "--workers", str(workers), "--max-pending", str(max_pending),
                "--poll-interval", str(poll_interval), "--flush-interval", str(flush_interval),
                "--log-level", log_level, *(["--product", wanted] if wanted else [])]  # fmt: skip
        _serve_replicas(paths.home, argv, host, tcp, replicas, stats_port, workers)
        return
    serve(paths, config, host, tcp, workers, log_level)


def _serve_replicas(
    home: Path, argv: list[str], host: str, port: int, n: int, stats_port: int, workers: int
) -> None:
    """Run ``n`` replicas (``argv`` plus ``--port``) on free loopback ports behind HAProxy."""
    from mesh_platform.serving import replicas
    from mesh_platform.serving.balancer import BalancerConfig
    from mesh_platform.serving.journal import JOURNAL_ENV

    workdir = Path(tempfile.mkdtemp(prefix="mesh-lb-"))  # short: a unix socket path is <108 bytes
    cfg = BalancerConfig(host, port, stats_port or _free_port(), tuple(_free_port() for _ in
                         range(n)), workdir / "admin.sock")  # fmt: skip
    journal = home / "serving" / "sessions"
    shutil.rmtree(journal, ignore_errors=True)  # sessions do not outlive the service
    env = {**os.environ, JOURNAL_ENV: str(journal)}  # every replica sees every session
    metrics = home / "serving" / "prometheus" if workers > 1 else None
    console.print(f"{n} replicas on 127.0.0.1:{','.join(map(str, cfg.replicas))}; HAProxy stats "
                  f"on http://{host}:{cfg.stats_port}/stats", highlight=False)  # fmt: skip
    try:
        replicas.run(lambda p: [*argv, "--port", str(p)], cfg, env, workdir, metrics)
    except replicas.ReplicaError as exc:
        err_console.print(f"[red]error[/] {exc}", highlight=False)
        raise typer.Exit(1) from None


def _free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def register(app: typer.Typer) -> None:
    """Add ``mesh serve`` to the CLI."""
    app.command("serve")(serve_cmd)
