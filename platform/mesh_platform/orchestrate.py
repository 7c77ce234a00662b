"""`mesh up`: materialise every domain in dependency order, runs recorded in the instance."""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from mesh_platform.settings import MeshPaths

# The run's events still go to the instance (and the UI) in full; only the console stays readable.
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class DomainResult:
    """What one domain's run did."""

    domain: str
    run_id: str
    success: bool
    seconds: float
    materialized: int = 0
    ports: dict[str, int] = field(default_factory=dict)  # port -> rows published
    checks_passed: int = 0
    checks_failed: int = 0
    error: str | None = None


def ensure_instance(paths: MeshPaths) -> None:
    """Create DAGSTER_HOME with the project's dagster.yaml (run queue, concurrency limits)."""
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.dagster_project / "dagster.yaml", paths.dagster_home / "dagster.yaml")


def _root_message(error) -> str:
    """The innermost cause of a Dagster step error: what actually went wrong."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _summarise(domain: str, result, seconds: float) -> DomainResult:
    out = DomainResult(domain, result.run_id, result.success, round(seconds, 1))
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out.materialized += 1
        if "mesh/snapshot_id" in mat.metadata:
            out.ports[mat.asset_key.path[-1]] = int(mat.metadata["dagster/row_count"].value)
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            out.checks_passed += 1
        else:
            out.checks_failed += 1
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        out.error = _root_message(failures[0].step_failure_data.error) if failures else "failed"
    return out


def materialize_domain(domain_dir: Path, trigger: str = "mesh up") -> DomainResult:
    """Run every asset of one domain in one in-process Dagster run recorded in the instance."""
    import dagster as dg

    from mesh_platform.factory import build_domain_definitions

    started = time.perf_counter()
    defs = build_domain_definitions(domain_dir)
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=_QUIET, instance=instance, raise_on_error=False,
            tags={"mesh/trigger": trigger},
        )  # fmt: skip
        return _summarise(domain_dir.name, result, time.perf_counter() - started)


def _preload() -> None:
    """Import the heavy modules once in the parent, so forked workers start without paying it."""
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    import mesh_platform.factory  # noqa: F401


def run_mesh(
    paths: MeshPaths,
    only: list[str] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[DomainResult], None] | None = None,
    workers: int = 2,
) -> list[DomainResult]:
    """Materialise the mesh, producers before consumers, independent domains side by side.

    A domain starts as soon as every domain whose ports it reads has succeeded; a failed producer
    skips its consumers, so they never build on missing or stale data.

    Returns:
        One result per domain, in the order they finished.

    """
    from mesh_platform.spec.crosscheck import domain_dependencies
    from mesh_platform.spec.loader import load_mesh

    domains, _ = load_mesh(paths.domains)
    wanted = [d for d in domains if not only or d in only]
    deps = {d: domain_dependencies(domains)[d] & set(wanted) for d in wanted}
    ensure_instance(paths)
    results: list[DomainResult] = []

    def finish(result: DomainResult) -> None:
        results.append(result)
        if on_done:
            on_done(result)

    _preload()
    # Processes, not threads: Dagster captures stdout/stderr per run, which deadlocked two runs
    # sharing one process. Forked workers inherit the preloaded imports (~5 s each otherwise).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending, running = set(wanted), {}
        while pending or running:
            done = {r.domain for r in results if r.success}
            failed = {r.domain for r in results if not r.success}
            for name in sorted(pending):
                if deps[name] & failed:
                    pending.discard(name)
                    finish(
                        DomainResult(
                            name, "-", False, 0.0, error="skipped: an upstream domain failed"
                        )
                    )
                elif deps[name] <= done and len(running) < workers:
                    pending.discard(name)
                    if on_start:
                        on_start(name)
                    running[pool.submit(materialize_domain, domains[name].path)] = name
            if running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future)
                    finish(future.result())
    return results
