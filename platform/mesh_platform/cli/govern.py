"""`mesh govern`: judge the mesh against global and domain policies; exit 1 on any error."""

from __future__ import annotations

import json
from enum import StrEnum
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from mesh_platform.governance.engine import GovernanceResult
    from mesh_platform.governance.model import Finding
    from mesh_platform.settings import MeshPaths

console = Console()
err_console = Console(stderr=True)
COLOURS = {"error": "red", "warning": "yellow", "info": "dim"}


class Format(StrEnum):
    """Output formats of `mesh govern`."""

    text = "text"
    json = "json"
    html = "html"


def govern_cmd(
    domain: str | None = typer.Option(None, "--domain", "-d", help="Judge only this domain."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="text, json or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
) -> None:
    """Run every governance policy; exit 1 on an error finding, 2 when descriptors do not load."""
    from mesh_platform.governance.engine import run_governance
    from mesh_platform.settings import mesh_paths

    paths = mesh_paths()
    try:
        result = run_governance(paths.root, domain=domain, paths=paths)
    except KeyError as exc:  # an unknown domain
        err_console.print(f"[red]error[/] {escape(str(exc.args[0]))}", highlight=False)
        raise typer.Exit(2) from None
    try:
        text = None if fmt is Format.text and output is None else render(result, fmt, paths)
    except ModuleNotFoundError as exc:
        err_console.print(f"[red]error[/] no HTML renderer: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if text is None:
        print_text(result)
    else:
        if output is None:
            typer.echo(text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            err_console.print(f"wrote {output}", highlight=False)
    for error in result.spec_errors:
        err_console.print(f"[red]spec error[/] {escape(error)}", highlight=False, soft_wrap=True)
    if result.spec_errors:
        err_console.print(f"{len(result.spec_errors)} descriptor error(s): fix them first")
        raise typer.Exit(2)
    raise typer.Exit(result.exit_code)


def render(result: GovernanceResult, fmt: Format, paths: MeshPaths) -> str:
    """The result as JSON, HTML (governance.report) or plain text."""
    if fmt is Format.json:
        return json.dumps(result.to_dict(), indent=2)
    if fmt is Format.html:
        from mesh_platform.governance.report import render_html  # type: ignore[import-not-found]

        return render_html(result, paths)
    with console.capture() as captured:
        print_text(result)
    return captured.get()


def print_text(result: GovernanceResult) -> None:
    """Findings as one table per domain, grouped by product, each with its fix."""
    cards = result.scorecard()
    for domain, card in cards.items():
        counts = card["counts"]
        colour = "red" if counts["error"] else "yellow" if counts["warning"] else "green"
        console.print(
            f"[bold]{domain}[/]: [{colour}]{len(card['passed'])} passed, "
            f"{len(card['failed'])} failed[/] ({counts['error']} errors, {counts['warning']} "
            f"warnings, {counts['info']} notes)",
            highlight=False,
        )
        findings = result.for_domain(domain)
        failing = [f for f in findings if f.severity.name != "info"]
        if failing:
            console.print(_table(failing))
        for note in (f for f in findings if f.severity.name == "info"):
            where = f"{note.product}: " if note.product else ""
            console.print(f"  [dim]note {note.policy}: {escape(where + note.message)}[/]")
    total = sum(c["counts"]["error"] for c in cards.values())
    verdict = "[red]FAIL[/]" if total else "[green]PASS[/]"
    console.print(f"{verdict}: {len(result.findings)} finding(s), {total} error(s)")


def _table(findings: list[Finding]) -> Table:
    table = Table(show_lines=False, title=None, expand=False)
    for column in ("product", "severity", "policy", "where", "finding", "fix"):
        table.add_column(column, overflow="fold")
    ordered = sorted(findings, key=lambda f: f.product or "")
    for product, group in groupby(ordered, key=lambda f: f.product or "(domain)"):
        for i, f in enumerate(group):
            where = f"{f.file}: {f.field}" if f.field else f.file
            colour = COLOURS[f.severity.name]
            table.add_row(
                escape(product) if i == 0 else "",
                f"[{colour}]{f.severity.name}[/]",
                f.policy,
                escape(where),
                escape(f.message),
                escape(f.fix),
            )
    return table


def register(app: typer.Typer) -> None:
    """Add `mesh govern` to the app."""
    app.command("govern")(govern_cmd)
