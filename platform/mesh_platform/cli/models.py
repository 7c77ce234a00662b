"""`mesh models ...`: list, inspect, promote and roll back the models registered in MLflow."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mesh_platform.settings import mesh_paths

console = Console()
err_console = Console(stderr=True)
models_app = typer.Typer(help="Model registry: versions, champion, promotion and rollback.",
                         no_args_is_help=True)  # fmt: skip


class Format(StrEnum):
    """Output of listing commands."""

    table = "table"
    json = "json"


FORMAT = typer.Option(Format.table, "--format", "-f", help="table or json")
NAME = typer.Argument(..., help="model name")


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[red]error[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _root(name: str | None = None) -> Path:
    """The registry folder; exit 2 when the named model is not in it."""
    from mesh_platform.ml.registry import list_models
    from mesh_platform.ml.tracking import registry_uri

    root = mesh_paths().registry
    if name is not None and name not in list_models(root):
        known = ", ".join(list_models(root)) or "none"
        raise _fail(f"no model '{name}' in {registry_uri(root)} (models: {known})", 2)
    return root


def _key_metrics(meta: dict[str, Any]) -> str:
    """The gated metrics (all metrics when none are gated), compactly."""
    metrics = meta.get("metrics", {})
    keys = [k for k in meta.get("gates", {}) if k in metrics] or sorted(metrics)
    return ", ".join(f"{k}={metrics[k]:.4g}" for k in keys)


def _summary(root: Path, name: str) -> dict[str, Any]:
    from mesh_platform.ml.registry import aliases, list_versions

    versions = [{"version": v.version, "status": v.status, "created_at": v.meta.get("created_at"),
                 "metrics": v.metrics, "evaluation_window": v.meta.get("evaluation_window")}
                for v in list_versions(root, name)]  # fmt: skip
    return {"name": name, **aliases(root, name), "versions": versions}


@models_app.command("list")
def list_cmd(fmt: Format = FORMAT) -> None:
    """Every model: its versions, champion and the champion's key metrics."""
    from mesh_platform.ml.registry import champion, list_models

    root = _root()
    models = [_summary(root, name) for name in list_models(root)]
    if fmt is Format.json:
        typer.echo(json.dumps(models, indent=2, default=str))
        return
    from mesh_platform.ml.tracking import registry_uri

    table = Table(title=f"models in {registry_uri(root)}", title_justify="left")
    for col in ("model", "versions", "champion", "champion metrics", "latest"):
        table.add_column(col)
    for m in models:
        best = champion(root, m["name"])
        latest = m["versions"][-1] if m["versions"] else {}
        newest = f"v{latest['version']} ({latest['status']})" if latest else ""
        table.add_row(m["name"], str(len(m["versions"])), f"v{best.version}" if best else "-",
                      _key_metrics(best.meta) if best else "", newest)  # fmt: skip
    console.print(table)
    if not models:
        console.print("no model registered yet")


def _show_model(root: Path, name: str, fmt: Format) -> None:
    summary = _summary(root, name)
    if fmt is Format.json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    history = " <- ".join(f"v{h['version']}" for h in reversed(summary["history"])) or "none"
    best = f"v{summary['champion']}" if summary["champion"] is not None else "none"
    console.print(f"[bold]{name}[/]: champion {best}, previous: {history}", highlight=False)
    table = Table(title_justify="left")
    for col in ("version", "status", "created_at", "metrics", "evaluation_window"):
        table.add_column(col, overflow="fold")
    for v in summary["versions"]:
        table.add_row(f"v{v['version']}", v["status"], str(v["created_at"]),
                      _key_metrics(v), json.dumps(v["evaluation_window"]))  # fmt: skip
    console.print(table)


@models_app.command("show")
def show_cmd(
    name: str = NAME,
    version: int | None = typer.Argument(None, help="version (default: the model overview)"),
    fmt: Format = FORMAT,
) -> None:
    """A model's versions and aliases, or one version's full metadata."""
    from mesh_platform.ml.registry import NotFoundError, show

    root = _root(name)
    if version is None:
        _show_model(root, name, fmt)
        return
    try:
        meta = show(root, name, version).meta
    except NotFoundError as exc:
        raise _fail(str(exc), 2) from exc
    if fmt is Format.json:
        typer.echo(json.dumps(meta, indent=2, default=str))
        return
    table = Table(title=f"{name} v{version}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in sorted(meta):
        value = meta[key]
        table.add_row(key, value if isinstance(value, str) else json.dumps(value, default=str))
    console.print(table)


@models_app.command("promote")
def promote_cmd(
    name: str = NAME,
    version: int = typer.Argument(..., help="version to make champion"),
    force: bool = typer.Option(False, "--force", help="promote even if its gates fail"),
) -> None:
    """Make a version champion; it must pass the gates recorded with it unless --force."""
    from mesh_platform.ml.promotion import promote
    from mesh_platform.ml.registry import NotFoundError

    try:
        decision = promote(_root(name), name, version, force=force)
    except NotFoundError as exc:
        raise _fail(str(exc), 2) from exc
    for reason in decision.reasons:
        console.print(f"  - {reason}", highlight=False)
    if not decision.promoted:
        raise _fail(f"{name} v{version} not promoted", 1)
    before = f"v{decision.previous_champion}" if decision.previous_champion else "none"
    console.print(f"[green]promoted[/] {name} v{version} to champion (was {before})")


@models_app.command("rollback")
def rollback_cmd(name: str = NAME) -> None:
    """Restore the previous champion."""
    from mesh_platform.ml.promotion import rollback
    from mesh_platform.ml.registry import RegistryError

    try:
        restored = rollback(_root(name), name)
    except RegistryError as exc:
        raise _fail(str(exc), 1) from exc
    console.print(f"[green]rolled back[/] {name}: champion is v{restored.version} again")


def register(app: typer.Typer) -> None:
    """Add the `models` sub-command group to the app."""
    app.add_typer(models_app, name="models")
