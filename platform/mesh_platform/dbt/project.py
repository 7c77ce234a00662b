"""A domain's prepared dbt project: rendered, its manifest parsed only when stale; run targets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mesh_platform.dbt.packages import ensure_packages
from mesh_platform.dbt.render import FINGERPRINT, render_project
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import Domain
from mesh_platform.settings import MeshPaths

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

_SOURCE_GLOBS = ("dbt_project.yml", "profiles.yml", FINGERPRINT)  # the fingerprint covers the rest
PARTIAL_PARSE = "partial_parse.msgpack"
KEEP_RUN_TARGETS = 10
FORKED_WORKER_ENV = "MESH_FORKED_WORKER"  # set in `mesh up`'s forked workers


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for pattern in _SOURCE_GLOBS:
        for path in project_dir.glob(pattern):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project_dir: Path) -> bool:
    """True when the manifest is missing or older than a file of the prepared project.

    The prepared project lives under one MESH_HOME, so a manifest never serves two homes.
    """
    manifest = project_dir / "target" / "manifest.json"
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project_dir)


def _packages(project_dir: Path, origin: Path | None) -> None:
    """`dbt deps` when stale; an error names the team's file (``origin``), not its copy."""
    try:
        ensure_packages(project_dir)
    except SpecErrors as exc:
        if origin is None:
            raise
        inside = Path(project_dir)
        moved = [
            replace(e, file=origin / Path(e.file).relative_to(inside))
            if Path(e.file).is_relative_to(inside) else e
            for e in exc.errors
        ]  # fmt: skip
        raise SpecErrors(moved) from None


def prepare_manifest(project_dir: Path, force: bool = False, origin: Path | None = None) -> bool:
    """Run `dbt parse` when the manifest is stale, so code locations load without parsing.

    dbt runs in this process (dbtRunner): its ~4 s of imports are paid once however many
    projects are prepared. A forked worker (see ``mesh_platform.orchestration.mesh_up``) parses in a
    subprocess instead: dbt's parser deadlocked in a child forked from a process with threads.

    Args:
        project_dir: the prepared project.
        force: parse even when the manifest is current.
        origin: the domain's dbt folder the project was rendered from (named in errors).

    Returns:
        True when a parse ran.

    Raises:
        RuntimeError: dbt parse failed; the message names the project and dbt's error.
        SpecErrors: a package cannot be installed (the packages file and the entry).
    """
    _packages(project_dir, origin)  # dbt parse needs the packages; cheap when they are current
    if not force and not manifest_is_stale(project_dir):
        return False
    # The rendered profile (with the sandbox plugin) is the one runs use: partial parse holds.
    args = ["parse", "--quiet", "--project-dir", str(project_dir), "--profiles-dir",
            str(project_dir)]  # fmt: skip
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
    return True


def prepare_domain(domain: Domain, paths: MeshPaths, parse: bool = True) -> Path:
    """Render the domain's prepared project under MESH_HOME and parse it when stale.

    Returns:
        The prepared project folder.
    """
    project_dir = render_project(domain, paths.contracts, paths.home)
    if parse:
        prepare_manifest(project_dir, origin=domain.dbt_dir)
    return project_dir


def domain_dbt_project(domain: Domain, paths: MeshPaths) -> DbtProject:
    """The DbtProject of a domain: its prepared project, the manifest parsed when stale."""
    from dagster_dbt import DbtProject

    project_dir = prepare_domain(domain, paths)
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
