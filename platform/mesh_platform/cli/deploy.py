"""`mesh deploy render`: what a cluster needs for one Dagster code server per domain, on paper."""

from __future__ import annotations

from pathlib import Path

import typer

from mesh_platform.orchestration.deploy_render import Target, render
from mesh_platform.settings import mesh_paths

CLUSTER_KINDS = ("grpc", "code-server")
deploy_app = typer.Typer(help="Deploy the mesh on a cluster: one code server per domain.")


@deploy_app.command("render")
def render_cmd(
    output: Path = typer.Option(Path("deploy"), help="Folder to write into."),
    registry: str = typer.Option(Target.registry, help="Image registry and path prefix."),
    tag: str = typer.Option(Target.tag, help="Image tag (a unique one per build is safest)."),
    prefix: str = typer.Option(Target.prefix, help="Prefix of Kubernetes deployment names."),
    server: str = typer.Option(
        "grpc", help="grpc (`dagster api grpc`) or code-server (reloadable from the UI)."
    ),
) -> None:
    """Write a Dockerfile per code location and Helm values (docs/deploy.md) from the workspace."""
    if server not in CLUSTER_KINDS:  # a pod serves one location: nothing to fork from
        raise typer.BadParameter(f"one of {', '.join(CLUSTER_KINDS)}", param_hint="--server")
    paths = mesh_paths()
    target = Target(registry=registry.rstrip("/"), tag=tag, prefix=prefix, kind=server)
    for path in render(paths.root, output, target):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the deploy commands to the app."""
    app.add_typer(deploy_app, name="deploy")
