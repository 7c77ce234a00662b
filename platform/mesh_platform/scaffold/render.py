"""Render the scaffold's Jinja templates (package data) and write files that must not exist yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from mesh_platform.scaffold.errors import ScaffoldError

TEMPLATES = Path(__file__).resolve().parent / "templates"
TODO = "TODO:"  # the marker governance flags: whatever carries it is for a human to fill in

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - YAML, SQL and Python, never HTML
)
# A JSON string is a valid YAML double-quoted scalar: safe for "TODO: ..." and any description.
_ENV.filters["yq"] = lambda value: json.dumps(str(value), ensure_ascii=False)


def render(template: str, **values: Any) -> str:
    """One template (path under templates/) rendered with ``values``."""
    return _ENV.get_template(template).render(**values)


def refuse_existing(paths: list[Path], root: Path) -> None:
    """Raise before writing anything when a file to create is already there.

    Raises:
        ScaffoldError: naming every existing file.

    """
    present = [str(p.relative_to(root)) for p in paths if p.exists()]
    if present:
        raise ScaffoldError(
            f"already exists: {', '.join(present)}; choose another name or remove the file(s)"
        )


def write_all(files: dict[Path, str], root: Path) -> list[Path]:
    """Write every file (after checking none exists); return their paths relative to ``root``."""
    refuse_existing(list(files), root)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [p.relative_to(root) for p in files]
