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
    return write_all(files, folder)


def enclosing_mesh(folder: Path) -> Path | None:
    """The mesh a new one would be nested in (a mesh.yaml above ``folder``), or None."""
    return find_root(folder.resolve().parent) if folder.resolve() != Path("/") else None
