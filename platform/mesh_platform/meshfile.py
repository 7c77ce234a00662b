"""The mesh.yaml that marks a mesh's root: what it declares, how it is found and loaded."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MESH_FILE = "mesh.yaml"
_ENTRY_POINT = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"  # module.path:attribute, as in entry points


class MeshFileError(Exception):
    """A mesh.yaml that is missing, unreadable or invalid: one line per problem, file and field."""

    def __init__(self, file: Path, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems  # (field, message); field "" when the file as a whole is wrong
        lines = (f"{file}: {f}: {m}" if f else f"{file}: {m}" for f, m in problems)
        super().__init__("; ".join(lines))


class NotInMeshError(MeshFileError):
    """The working directory is in no mesh (no mesh.yaml here or above) and none is named."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not a silent default


class Defaults(_Strict):
    """Values commands use when not told otherwise."""

    scale: float = Field(
        default=1.0, gt=0, description="Scale of generated demo data (1 = the default)."
    )
    seed: int = Field(default=42, description="Seed of generated demo data: same seed, same data.")


class Demo(_Strict):
    """A demo mesh generates its own landing data; any other mesh's sources drop files."""

    generator: str = Field(
        pattern=_ENTRY_POINT,
        description="Entry point 'module:function' called as f(landing_dir, scale=, seed=, "
        "progress=); it returns a summary with `rows` (entity -> rows) and `seconds`.",
    )


class MeshSpec(_Strict):
    """The contents of mesh.yaml."""

    name: str = Field(min_length=1, description="The mesh's name.")
    description: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    demo: Demo | None = None
    profile: Literal["embedded", "distributed"] = Field(
        default="embedded",
        description="Where the mesh runs: embedded (one machine, SQLite, in-process steps) or "
        "distributed (PostgreSQL, Celery workers, S3; docs/scale-out.md). MESH_PROFILE overrides.",
    )


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a mesh.yaml, or None."""
    start = start.resolve()
    return next((d for d in (start, *start.parents) if (d / MESH_FILE).is_file()), None)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def load_mesh_file(root: Path) -> MeshSpec:
    """Read and validate ``root/mesh.yaml``; a root without one is a mesh named after its folder.

    Raises:
        MeshFileError: the file is not YAML or breaks the schema, naming file and field.

    """
    path = root / MESH_FILE
    if not path.is_file():  # only reachable through MESH_PROJECT_ROOT: the override is trusted
        return MeshSpec(name=root.name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MeshFileError(path, [("", f"not valid YAML: {exc}".replace("\n", " "))]) from None
    if not isinstance(data, dict):
        raise MeshFileError(path, [("", "must be a mapping with at least `name:`")])
    try:
        return MeshSpec.model_validate(data)
    except ValidationError as exc:
        problems = [(_field(e["loc"]), e["msg"]) for e in exc.errors()]
        raise MeshFileError(path, problems) from None


def load_generator(root: Path, spec: MeshSpec) -> Callable[..., Any] | None:
    """The demo data generator mesh.yaml declares (``demo.generator``), or None.

    Raises:
        MeshFileError: the entry point cannot be imported or is not callable.

    """
    if spec.demo is None:
        return None
    module_name, _, attribute = spec.demo.generator.partition(":")
    where = (root / MESH_FILE, "demo.generator")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        msg = f"cannot load '{spec.demo.generator}' ({exc}); is its package installed?"
        raise MeshFileError(where[0], [(where[1], msg)]) from None
    if not callable(target):
        raise MeshFileError(where[0], [(where[1], f"'{spec.demo.generator}' is not callable")])
    return target
