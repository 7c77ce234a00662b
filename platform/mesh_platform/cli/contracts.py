"""`mesh contracts lint` and `mesh contracts diff`: validate contracts, judge a new version."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mesh_platform.contracts.odcs import Contract, load_contract
from mesh_platform.descriptors.errors import SpecError, SpecErrors

console = Console()
err_console = Console(stderr=True)
contracts_app = typer.Typer(
    help="Lint data contracts and judge the compatibility of a new contract version.",
    no_args_is_help=True,
)


def _print_errors(errors: list[SpecError]) -> None:
    for error in errors:
        err_console.print(f"[red]error[/] {escape(str(error))}", highlight=False, soft_wrap=True)


def _lint_files(paths: list[Path], root: Path) -> tuple[int, list[SpecError]]:
    from mesh_platform.contracts.conformance import check_ports
    from mesh_platform.contracts.odcs import SUFFIX
    from mesh_platform.descriptors.loader import load_mesh

    files = [f for p in paths for f in (sorted(p.rglob(f"*{SUFFIX}")) if p.is_dir() else [p])]
    contracts: dict[str, Contract] = {}
    errors: list[SpecError] = []
    for path in files:
        try:
            contract = load_contract(path)
        except SpecErrors as exc:
            errors += exc.errors
            continue
        contracts[contract.file_key] = contract  # two majors of a port share the key
    if (root / "domains").is_dir():
        domains, _ = load_mesh(root / "domains")
        errors += check_ports(contracts, domains)
    return len(files), errors


@contracts_app.command("lint")
def lint_cmd(
    paths: list[Path] | None = typer.Argument(
        None, help="Contract files or folders (default: every contract under contracts/)."
    ),
) -> None:
    """Validate contracts and their drift against descriptors and dbt models; exit 2 on errors."""
    from mesh_platform.contracts.conformance import check_mesh_drift
    from mesh_platform.settings import mesh_paths

    root = mesh_paths().root
    if paths:
        count, errors = _lint_files(paths, root)
    else:
        count = len(list((root / "contracts").rglob("*.odcs.yaml")))
        errors = check_mesh_drift(root)
    _print_errors(errors)
    if errors:
        err_console.print(f"{len(errors)} error(s) in {count} contract(s)")
        raise typer.Exit(2)
    console.print(f"[green]valid[/]: {count} contract(s)")


def _load_ref(ref: str) -> Contract:
    """A contract from a file path or ``git:<rev>:<path>`` (a committed version)."""
    if not ref.startswith("git:"):
        return load_contract(Path(ref), check_path=False)
    _, rev, path = ref.split(":", 2)
    shown = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    if shown.returncode != 0:
        raise SpecErrors([SpecError(Path(ref), "", f"git show failed: {shown.stderr.strip()}")])
    return load_contract(Path(ref), text=shown.stdout, check_path=False)


@contracts_app.command("diff")
def diff_cmd(
    old: str = typer.Argument(..., help="Old version: a file or git:<rev>:<path>."),
    new: str = typer.Argument(..., help="New version: a file or git:<rev>:<path>."),
) -> None:
    """Show what changed between two contract versions; exit 1 when the versioning is wrong."""
    from mesh_platform.contracts.diff import diff_contracts, verdict

    try:
        before, after = _load_ref(old), _load_ref(new)
    except SpecErrors as exc:
        _print_errors(exc.errors)
        raise typer.Exit(2) from None
    changes = diff_contracts(before, after)
    table = Table(title=f"{before.id}: {before.version} -> {after.version}")
    for col in ("change", "column", "detail", "verdict"):
        table.add_column(col)
    for c in changes:
        mark = "[red]breaking[/]" if c.breaking else "[green]compatible[/]"
        table.add_row(c.kind, escape(c.column or "(table)"), escape(c.detail), mark)
    console.print(table if changes else "no changes")
    result = verdict(changes, before, after)
    colour = "green" if result.ok else "red"
    console.print(f"[{colour}]{escape(result.message)}[/]", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``contracts`` command group to the app."""
    app.add_typer(contracts_app, name="contracts")
