"""Scaffold a new, empty mesh: mesh.yaml, domains/, contracts/, the Dagster workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2

from mesh_platform.meshfile import MESH_FILE, find_root
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.render import write_all

TEMPLATES = Path(__file__).resolve().parent / "mesh_templates"
# template (under mesh_templates/) -> file it becomes (under the new mesh's root)
FILES = {
    "mesh.yaml.j2": MESH_FILE,
    "README.md.j2": "README.md",
    "gitignore.j2": ".gitignore",
    "dagster_project/workspace.yaml.j2": "dagster_project/workspace.yaml",
    "dagster_project/dagster.yaml.j2": "dagster_project/dagster.yaml",
}
KEEP = ("domains/.gitkeep", "contracts/.gitkeep")  # git keeps no empty folder
# An existing repository made a mesh keeps its own README; its .gitignore gets the lines it lacks.
OPTIONAL = ("README.md", ".gitignore")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - YAML and Markdown, never HTML
)
_ENV.filters["yq"] = lambda value: json.dumps(str(value), ensure_ascii=False)  # a YAML string


def mesh_name(folder: Path) -> str:
    """A mesh name from a folder name: lower case, runs of other characters as one '_'."""
    return re.sub(r"[^a-z0-9]+", "_", folder.name.lower()).strip("_") or "mesh"


def init_mesh(folder: Path, name: str | None = None, description: str | None = None) -> list[Path]:
    """Create an empty mesh in ``folder`` (created if missing; other files there are kept).

    Args:
        folder: the new mesh's root.
        name: the mesh's name (default: from the folder's name).
        description: what the mesh is for (a TODO when not given).

    Returns:
        The files written, relative to ``folder``.

    Raises:
        ScaffoldError: ``folder`` is a file or already a mesh, or a file to write exists;
            nothing is written then.

    """
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise ScaffoldError(f"{folder} is a file, not a folder")
    if (folder / MESH_FILE).exists():
        raise ScaffoldError(f"{folder / MESH_FILE} exists already: {folder} is a mesh")
    values = {
        "name": name or mesh_name(folder),
        "description": description or "TODO: what this mesh serves, and for whom",
    }
    files = {folder / out: _ENV.get_template(src).render(**values) for src, out in FILES.items()}
    files.update({folder / keep: "" for keep in KEEP})
    present = {folder / name for name in OPTIONAL if (folder / name).exists()}
    written = write_all({p: text for p, text in files.items() if p not in present}, folder)
    ignore = folder / ".gitignore"
    if ignore in present and _extend_gitignore(ignore, files[ignore]):
        written.append(ignore.relative_to(folder))
    return written


def _extend_gitignore(path: Path, template: str) -> bool:
    """Append the template's patterns that ``path`` lacks; True when it changed."""
    text = path.read_text(encoding="utf-8")
    have = set(text.splitlines())
    missing = [p for p in template.splitlines() if p and not p.startswith("#") and p not in have]
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        added = "\n".join(["# mesh: runtime state and build output", *missing])
        path.write_text(f"{text}{sep}{added}\n", encoding="utf-8")
    return bool(missing)


def enclosing_mesh(folder: Path) -> Path | None:
    """The mesh a new one would be nested in (a mesh.yaml above ``folder``), or None."""
    return find_root(folder.resolve().parent) if folder.resolve() != Path("/") else None
