"""A domain's dbt project: manifest prepared ahead, only when stale; per-run target folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

_SOURCE_GLOBS = ("dbt_project.yml", "profiles.yml", "models/**/*", "macros/**/*", "seeds/**/*")
PARTIAL_PARSE = "partial_parse.msgpack"
KEEP_RUN_TARGETS = 10
FORKED_WORKER_ENV = "MESH_FORKED_WORKER"  # set in `mesh up`'s forked workers
PARSED_FOR = "mesh_home.txt"  # the MESH_HOME the prepared manifest was parsed with
SANDBOXED = "\n+sandbox"  # marks a parse with the sandboxed profile (mesh_platform.dbt.sandbox)


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for pattern in _SOURCE_GLOBS:
        for path in project_dir.glob(pattern):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project_dir: Path, check_home: bool = True) -> bool:
    """True when the manifest is missing, older than a dbt file, or parsed for another MESH_HOME.

    The MESH_HOME condition applies only with ``check_home``: the manifest does not depend on
    MESH_HOME, but dbt's partial-parse state does (the profile renders it), so re-parsing for a
    new MESH_HOME keeps each run's own parse incremental.
    """
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project_dir):
        return True
    marker = project_dir / "target" / PARSED_FOR
    home = os.environ.get("MESH_HOME", "") + SANDBOXED  # parsed with the sandboxed profile
    return check_home and (not marker.exists() or marker.read_text() != home)


def prepare_manifest(project_dir: Path, force: bool = False, check_home: bool = True) -> bool:
    """Run `dbt parse` when the manifest is stale, so code locations load without parsing.

    dbt runs in this process (dbtRunner): its ~4 s of imports are paid once however many
    projects are prepared. A forked worker (see ``mesh_platform.orchestration.mesh_up``) parses in a
    subprocess instead: dbt's parser deadlocked in a child forked from a process with threads.

    Returns:
        True when a parse ran.

    Raises:
        RuntimeError: dbt parse failed; the message names the project and dbt's error.
    """
    if not force and not manifest_is_stale(project_dir):
        return False
    from mesh_platform.dbt.sandbox import sandboxed_profiles_dir  # the profile runs use

    profiles = sandboxed_profiles_dir(project_dir)  # same profile as the runs: partial parse holds
    args = ["parse", "--quiet", "--project-dir", str(project_dir), "--profiles-dir", str(profiles)]
    if os.environ.get(FORKED_WORKER_ENV):
        dbt = Path(sys.executable).with_name("dbt")
        proc = subprocess.run([str(dbt), *args], capture_output=True, text=True, cwd=project_dir)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project_dir}:\n{proc.stdout}{proc.stderr}")
    else:
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(args)
        if not result.success:
            raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")
    (project_dir / "target" / PARSED_FOR).write_text(os.environ.get("MESH_HOME", "") + SANDBOXED)
    return True


def domain_dbt_project(project_dir: Path) -> DbtProject:
    """The DbtProject of a domain, with its manifest prepared when stale."""
    from dagster_dbt import DbtProject

    project_dir = Path(project_dir).resolve()
    # Code locations and run workers only need a manifest that matches the dbt files; `mesh
    # prepare` (run ahead by `mesh up` and `mesh ui`) also refreshes it for the current MESH_HOME.
    prepare_manifest(project_dir, check_home=False)
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
