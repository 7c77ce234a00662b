"""`mesh defs check|list`: Dagster's `dg check defs` / `dg list defs` on each domain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from mesh_platform.settings import MeshPaths, mesh_paths

defs_app = typer.Typer(help="Dagster definitions of the domains, through `dg`.",
                       no_args_is_help=True)  # fmt: skip


def _dg(paths: MeshPaths, domain: str, *args: str) -> int:
    """Run ``dg ARGS`` in the domain's rendered dg project; its exit code."""
    from mesh_platform.orchestration.dg_project import render_dg_project

    try:
        project = render_dg_project(paths, domain)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    env = {**os.environ, "MESH_PROJECT_ROOT": str(paths.root), "MESH_HOME": str(paths.home)}
    dg = str(Path(sys.executable).with_name("dg"))  # the dg of this environment, not PATH's
    return subprocess.run([dg, *args], cwd=project, env=env).returncode


def _prepared(domains: list[str] | None) -> tuple[MeshPaths, list[str]]:
    """The mesh's paths with its Dagster instance in place, and the domains asked for (or all)."""
    from mesh_platform.orchestration.dg_project import domain_names
    from mesh_platform.orchestration.mesh_up import ensure_instance

    paths = mesh_paths()
    ensure_instance(paths)  # dg loads definitions with the mesh's DAGSTER_HOME
    return paths, list(domains or domain_names(paths))


@defs_app.command("check")
def check_cmd(
    domains: list[str] = typer.Argument(None, help="domains to check (default: all)"),
) -> None:
    """`dg check defs` per domain: its defs.yaml against the component schema, then its defs."""
    paths, names = _prepared(domains)
    failed = [d for d in names if _dg(paths, d, "check", "defs") != 0]
    if failed:
        typer.echo(f"definitions failed to check: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(names)} domain(s) checked: {', '.join(names)}")


@defs_app.command("list")
def list_cmd(
    domain: str = typer.Argument(..., help="the domain whose definitions to list"),
    json_out: bool = typer.Option(False, "--json", help="dg's JSON output"),
) -> None:
    """`dg list defs` of one domain: its assets, checks, jobs and sensors."""
    paths, _ = _prepared([domain])
    code = _dg(paths, domain, "list", "defs", *(["--json"] if json_out else []))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the `defs` sub-command group to the app."""
    app.add_typer(defs_app, name="defs")
