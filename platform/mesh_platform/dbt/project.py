"""A domain's dbt project: manifest prepared ahead, only when stale; per-run target folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

_SOURCE_GLOBS = ("dbt_project.yml", "profiles.yml", "models/**/*", "macros/**/*", "seeds/**/*")
PARTIAL_PARSE = "partial_parse.msgpack"
KEEP_RUN_TARGETS = 10
PARSED_FOR = "mesh_home.txt"  # the MESH_HOME the prepared manifest was parsed with


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for pattern in _SOURCE_GLOBS:
        for path in project_dir.glob(pattern):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project_dir: Path) -> bool:
    """True when the manifest is missing, older than any dbt file, or parsed for another MESH_HOME.

    The profile renders MESH_HOME; dbt's partial parsing starts over whenever the rendered profile
    changes, so the state prepared ahead is only useful for the MESH_HOME it was parsed with.
    """
    manifest = project_dir / "target" / "manifest.json"
    marker = project_dir / "target" / PARSED_FOR
    if not manifest.exists() or not marker.exists():
        return True
    if marker.read_text() != os.environ.get("MESH_HOME", ""):
        return True
    return manifest.stat().st_mtime < _newest_source_mtime(project_dir)


def prepare_manifest(project_dir: Path, force: bool = False) -> bool:
    """Run `dbt parse` when the manifest is stale, so code locations load without parsing.

    dbt runs in this process (dbtRunner): its ~4 s of imports are paid once however many
    projects are prepared, instead of once per `dbt parse` subprocess.

    Returns:
        True when a parse ran.

    Raises:
        RuntimeError: dbt parse failed; the message names the project and dbt's error.

    """
    if not force and not manifest_is_stale(project_dir):
        return False
    from dbt.cli.main import dbtRunner

    args = [
        "parse",
        "--quiet",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
    ]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")
    (project_dir / "target" / PARSED_FOR).write_text(os.environ.get("MESH_HOME", ""))
    return True


def domain_dbt_project(project_dir: Path) -> DbtProject:
    """The DbtProject of a domain, with its manifest prepared when stale."""
    from dagster_dbt import DbtProject

    project_dir = Path(project_dir).resolve()
    prepare_manifest(project_dir)
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir)


def _prune_run_targets(parent: Path, keep: int = KEEP_RUN_TARGETS) -> None:
    """Drop the oldest per-run target folders; the newest stay for debugging and lineage."""
    runs = sorted(parent.glob("run-*"), key=lambda p: p.stat().st_mtime)
    for old in runs[: max(0, len(runs) - keep + 1)]:
        shutil.rmtree(old, ignore_errors=True)


def run_target_path(project: DbtProject, run_id: str) -> Path:
    """A target folder for one run, seeded with the prepared partial-parse state.

    dagster-dbt gives each invocation a fresh target folder, which makes dbt re-parse the whole
    project; copying partial_parse.msgpack keeps the run's parse incremental.
    """
    target = project.project_dir / "target" / f"run-{run_id[:8]}"
    _prune_run_targets(target.parent)
    target.mkdir(parents=True, exist_ok=True)
    state = project.project_dir / "target" / PARTIAL_PARSE
    if state.exists():
        shutil.copy2(state, target / PARTIAL_PARSE)
    return target
