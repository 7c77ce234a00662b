"""Read an existing dbt project without running dbt: folders, models, sources, seeds, data files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mesh_platform import yamlio
from mesh_platform.contracts.infer import READERS
from mesh_platform.scaffold.errors import ScaffoldError

# dbt's own defaults for the folders a project may rename in dbt_project.yml.
FOLDERS = {"model-paths": ["models"], "seed-paths": ["seeds"], "macro-paths": ["macros"],
           "test-paths": ["tests"], "snapshot-paths": ["snapshots"],
           "analysis-paths": ["analyses"]}  # fmt: skip
_SKIP = {"target", "dbt_packages", "logs", "dbt_modules", "node_modules"}
_REF = re.compile(r"""\bref\(\s*['"]([\w.]+)['"]\s*(?:,\s*['"]([\w.]+)['"])?""")
_SOURCE = re.compile(r"""\bsource\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]""")


@dataclass
class DbtProject:
    """What the import needs to know of a dbt project."""

    path: Path
    name: str
    config: dict[str, Any]
    models: dict[str, Path] = field(default_factory=dict)  # model name -> .sql file
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)  # (source, table) -> yml
    seeds: dict[str, Path] = field(default_factory=dict)  # seed name -> file
    data_files: dict[str, Path] = field(default_factory=dict)  # other CSV/Parquet/JSON files
    reads: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)  # model -> refs/sources

    def folders(self, key: str) -> list[Path]:
        """The existing folders of one kind (``model-paths`` ...), as dbt_project.yml says."""
        names = self.config.get(key) or FOLDERS[key]
        return [self.path / n for n in names if (self.path / n).is_dir()]

    def upstream_sources(self, model: str) -> set[tuple[str, str]]:
        """Every (source, table) a model reads, directly or through other models."""
        seen: set[str] = set()
        found: set[tuple[str, str]] = set()
        todo = [model]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for read in self.reads.get(current, set()):
                if read[0] == "source":
                    found.add((read[1], read[2]))
                else:
                    todo.append(read[1])
        return found


def load_yaml(path: Path, field_name: str = "") -> Any:
    """A YAML file of the project; one line naming the file when it does not parse.

    Raises:
        ScaffoldError: the file cannot be read or parsed.
    """
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0]
        raise ScaffoldError(f"{path}: {field_name or 'file'}: cannot read: {reason}") from None


def project_files(folders: list[Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files with one of ``suffixes`` under ``folders``, skipping build output and hidden ones."""
    return sorted(
        p for f in folders for p in f.rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes and not _skipped(p.relative_to(f).parts)
    )  # fmt: skip


def _skipped(parts: tuple[str, ...]) -> bool:
    """Build output, installed packages and hidden folders (.git, .venv) hold no project files."""
    return any(part in _SKIP or part.startswith(".") for part in parts[:-1])


def _sources(project: DbtProject) -> None:
    for yml in project_files(project.folders("model-paths"), (".yml", ".yaml")):
        data = load_yaml(yml)
        for i, source in enumerate((data or {}).get("sources") or []):
            if not isinstance(source, dict) or "name" not in source:
                raise ScaffoldError(f"{yml}: sources[{i}].name: a source needs a name")
            for j, table in enumerate(source.get("tables") or []):
                if not isinstance(table, dict) or "name" not in table:
                    raise ScaffoldError(f"{yml}: sources[{i}].tables[{j}].name: a table needs one")
                project.sources[(source["name"], table["name"])] = yml


def _reads(sql: str) -> set[tuple[str, ...]]:
    refs = {("ref", m.group(2) or m.group(1)) for m in _REF.finditer(sql)}
    return refs | {("source", m.group(1), m.group(2)) for m in _SOURCE.finditer(sql)}


def scan_project(path: Path) -> DbtProject:
    """Read ``path`` as a dbt project.

    Raises:
        ScaffoldError: no dbt_project.yml, or a file that does not parse (file and field).
    """
    path = Path(path).resolve()
    project_file = path / "dbt_project.yml"
    if not project_file.is_file():
        raise ScaffoldError(f"{project_file}: not found: {path} is not a dbt project")
    config = load_yaml(project_file)
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise ScaffoldError(f"{project_file}: name: a dbt project needs a name")
    for key in FOLDERS:
        if key in config and not isinstance(config[key], list):
            raise ScaffoldError(f"{project_file}: {key}: must be a list of folders")
    project = DbtProject(path, config["name"], config)
    for sql in project_files(project.folders("model-paths"), (".sql",)):
        project.models[sql.stem] = sql
        project.reads[sql.stem] = _reads(sql.read_text(encoding="utf-8"))
    _sources(project)
    project.seeds = {p.stem: p for p in project_files(project.folders("seed-paths"), (".csv",))}
    seeds = set(project.seeds.values())
    data = [p for p in project_files([path], tuple(READERS)) if p not in seeds]
    project.data_files = {p.name.split(".")[0]: p for p in data}
    return project
