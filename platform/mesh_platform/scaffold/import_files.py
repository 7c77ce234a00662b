"""The dbt files `mesh import dbt` carries into a domain: SQL, docs, tests, packages, config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mesh_platform.scaffold.dbt_scan import DbtProject, load_yaml, project_files
from mesh_platform.scaffold.errors import ScaffoldError

# dbt_project.yml folder key -> the folder it lands in under domains/<domain>/dbt/.
CARRIED = {"model-paths": "models", "macro-paths": "macros", "test-paths": "tests",
           "snapshot-paths": "snapshots", "analysis-paths": "analyses"}  # fmt: skip
_TEXT = (".sql", ".yml", ".yaml", ".md", ".csv", ".py", ".txt")
# Project-level config the platform's rendered dbt_project.yml must carry over for the domain.
CONFIG_KEYS = ("models", "snapshots", "data_tests", "tests", "vars", "quoting", "flags",
               "semantic-models", "saved-queries", "dispatch",
               "on-run-start", "on-run-end")  # fmt: skip
Files = dict[Path, str]


def _without_sources(path: Path) -> str | None:
    """A .yml's text without its ``sources:`` (the platform generates them); None if only those.

    Files without sources are carried byte for byte, so their comments and layout stay.
    """
    text = path.read_text(encoding="utf-8")
    data = load_yaml(path)
    if not isinstance(data, dict) or "sources" not in data:
        return text
    rest = {k: v for k, v in data.items() if k not in ("sources", "version")}
    if not rest:
        return None
    return yaml.safe_dump({"version": 2, **rest}, sort_keys=False, width=100)


def dbt_files(project: DbtProject, dest: Path) -> Files:
    """Every model, macro, test, snapshot and analysis file, at its place under ``dest``.

    Data files among them are left out: they become landing feeds.
    """
    files: Files = {}
    for key, folder in CARRIED.items():
        for src_dir in project.folders(key):
            for path in project_files([src_dir], _TEXT):
                if path.suffix == ".csv" or path in project.seeds.values():
                    continue
                target = dest / folder / path.relative_to(src_dir)
                is_yml = key == "model-paths" and path.suffix in (".yml", ".yaml")
                text = _without_sources(path) if is_yml else path.read_text(encoding="utf-8")
                if text is not None:
                    files[target] = text
    return files


def package_files(project: DbtProject, dest: Path, steps: list[str]) -> Files:
    """packages.yml (or dependencies.yml) with local packages copied beside it under packages/.

    A local path is rewritten relative to the domain's dbt folder: ``packages/<folder>``; a hub
    or git package is noted in ``steps``: the first build fetches it.

    Raises:
        ScaffoldError: a local package that does not exist (file and entry).
    """
    # dbt reads the first of these (mesh_platform.dbt.packages runs `dbt deps` on it later).
    found = [project.path / f for f in ("packages.yml", "dependencies.yml")]
    file = next((f for f in found if f.is_file()), None)
    if file is None:
        return {}
    data = load_yaml(file) or {}
    files: Files = {}
    for i, entry in enumerate(data.get("packages") or []):
        if not isinstance(entry, dict) or "local" not in entry:
            steps.append(f"{file.name}: packages[{i}] is fetched by the first build (network)")
            continue
        src = (project.path / str(entry["local"])).resolve()
        if not src.is_dir():
            raise ScaffoldError(f"{file}: packages[{i}].local: '{entry['local']}' does not exist")
        entry["local"] = f"packages/{src.name}"
        for path in project_files([src], _TEXT):
            text = path.read_text(encoding="utf-8")
            files[dest / "packages" / src.name / path.relative_to(src)] = text
    files[dest / file.name] = yaml.safe_dump(data, sort_keys=False, width=100)
    return files


def project_config(project: DbtProject) -> dict[str, Any]:
    """The project's own config blocks, with its name level (``models: {shop: ...}``) removed."""
    out: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        value = project.config.get(key)
        if isinstance(value, dict) and isinstance(value.get(project.name), dict):
            value = value[project.name]
        if value:
            out[key] = value
    return out
