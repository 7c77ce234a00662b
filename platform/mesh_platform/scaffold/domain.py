"""Scaffold a domain: descriptor, component declaration, model folders, workspace entry.

The dbt project file, profile and code location are the platform's (rendered per domain).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mesh_platform.descriptors.models import NAME_PATTERN, OWNER_PATTERN
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.render import render, write_all

WORKSPACE = Path("dagster_project") / "workspace.yaml"
KINDS = ("source-aligned", "consumer-aligned", "aggregate")


def check_name(name: str, what: str) -> None:
    """Raise unless ``name`` is a valid domain or product name (lower snake case)."""
    if not re.match(NAME_PATTERN, name):
        raise ScaffoldError(
            f"{what} name '{name}' must be lower snake case ({NAME_PATTERN}), e.g. 'finance'"
        )


def _check_owners(owners: list[str]) -> None:
    bad = [o for o in owners if not OWNER_PATTERN.match(o)]
    if bad:
        raise ScaffoldError(f"--owner {', '.join(bad)}: use team:<name> or an e-mail address")


def workspace_locations(workspace: Path) -> list[str]:
    """Location names already listed in workspace.yaml."""
    data = yaml.safe_load(workspace.read_text(encoding="utf-8")) or {}
    entries = data.get("load_from") or []
    return [next(iter(e.values())).get("location_name", "") for e in entries if e]


def add_workspace_entry(workspace: Path, name: str) -> None:
    """Append one code location to workspace.yaml, keeping the file's text and comments as is.

    Raises:
        ScaffoldError: the location is already listed.

    """
    if name in workspace_locations(workspace):
        raise ScaffoldError(f"{workspace}: location '{name}' is already listed")
    text = workspace.read_text(encoding="utf-8")
    text = text if text.endswith("\n") else text + "\n"
    workspace.write_text(text + render("domain/workspace_entry.yaml.j2", name=name))
    if name not in workspace_locations(workspace):  # the append must parse as one more entry
        raise ScaffoldError(f"{workspace}: could not add '{name}' under load_from")


def new_domain(
    root: Path,
    name: str,
    team: str | None = None,
    owners: list[str] | None = None,
    description: str | None = None,
    kind: str = "consumer-aligned",
) -> list[Path]:
    """Create ``domains/<name>/`` and list it in the workspace.

    Args:
        root: the repository root.
        name: the domain's name (lower snake case).
        team: the owning team's display name (a TODO when not given).
        owners: ``team:<name>`` or e-mail addresses (default ``team:<name>``).
        description: what the domain owns (a TODO when not given).
        kind: source-aligned, consumer-aligned or aggregate.

    Returns:
        The files written, relative to ``root`` (workspace.yaml last).

    Raises:
        ScaffoldError: bad name, kind or owner, or the domain exists; nothing is written then.

    """
    check_name(name, "domain")
    owners = owners or [f"team:{name}"]
    _check_owners(owners)
    if kind not in KINDS:
        raise ScaffoldError(f"--kind '{kind}' must be one of {', '.join(KINDS)}")
    folder, workspace = root / "domains" / name, root / WORKSPACE
    if folder.exists():
        raise ScaffoldError(f"domain '{name}' exists already at {folder}")
    if name in workspace_locations(workspace):
        raise ScaffoldError(f"{workspace}: location '{name}' is already listed")
    values = {
        "name": name, "owners": owners, "kind": kind,
        "team": team or f"TODO: the team that owns {name}",
        "description": description or "TODO: what this domain owns, and for whom",
    }  # fmt: skip
    files = {
        folder / "domain.yaml": render("domain/domain.yaml.j2", **values),
        folder / "defs.yaml": render("domain/defs.yaml.j2", **values),
        folder / "dbt" / "models" / "staging" / ".gitkeep": "",
        folder / "dbt" / "models" / "marts" / ".gitkeep": "",
    }
    written = write_all(files, root)
    add_workspace_entry(workspace, name)
    return [*written, WORKSPACE]
