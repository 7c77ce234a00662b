"""`mesh ci`: every check a change must pass before it merges, with one exit code."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
_MARK = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "skip": "[yellow]skip[/]"}


def ci_cmd(
    base: str = typer.Option("main", help="Git revision to diff contracts and dbt state against."),
    skip: list[str] = typer.Option(
        None, "--skip", help="Steps not to run: lint, contracts, governance, dbt (repeatable)."
    ),
) -> None:
    """Lint, diff contracts against BASE, govern, dbt-build what changed; exit 1 on a failure."""
    from mesh_platform.ci.pipeline import STEPS, Step, run_ci
    from mesh_platform.settings import project_root

    unknown = set(skip or []) - set(STEPS)
    if unknown:
        raise typer.BadParameter(
            f"unknown step(s) {', '.join(sorted(unknown))}", param_hint="--skip"
        )

    def report(step: Step) -> None:
        console.print(f"{step.name}: {step.status} ({step.seconds:.1f}s)", highlight=False)

    steps = run_ci(project_root(), base, tuple(skip or []), on_step=report)
    table = Table(title=f"mesh ci against {base}")
    for col in ("step", "result", "seconds", "detail"):
        table.add_column(col)
    for s in steps:
        table.add_row(s.name, _MARK[s.status], f"{s.seconds:.1f}", escape(s.detail))
    console.print(table)
    failed = [s.name for s in steps if not s.ok]
    console.print(f"[red]ci failed[/]: {', '.join(failed)}" if failed else "[green]ci passed[/]")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``mesh ci`` to the app."""
    app.command("ci")(ci_cmd)
