"""`mesh serve`: the real-time recommendations API (FastAPI on uvicorn)."""

from __future__ import annotations

import typer
from rich.console import Console

from mesh_platform.settings import mesh_paths

console = Console()


def serve_cmd(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes sharing the port."),
    max_pending: int = typer.Option(64, min=1, help="Pending requests per worker before 503."),
    poll_interval: float = typer.Option(1.0, min=0.05, help="Seconds between champion checks."),
    flush_interval: float = typer.Option(5.0, min=0.05, help="Max seconds before events land."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Serve recommendations from the recommender champion's published port.

    Docs at /docs, OpenAPI at /openapi.json, Prometheus metrics at /metrics.
    """
    from mesh_platform.serving.config import ServeConfig
    from mesh_platform.serving.server import serve

    paths = mesh_paths()
    config = ServeConfig(max_pending=max_pending, poll_interval_s=poll_interval,
                         flush_interval_s=flush_interval)  # fmt: skip
    console.print(f"recommendations API on http://{host}:{port}/v1 ({workers} worker(s)) "
                  f"serving {paths.lake}", highlight=False)  # fmt: skip
    serve(paths, config, host, port, workers, log_level)


def register(app: typer.Typer) -> None:
    """Add ``mesh serve`` to the CLI."""
    app.command("serve")(serve_cmd)
