"""`mesh up`: materialise every domain in dependency order through Dagster, recorded in the instance."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mesh_platform.settings import MeshPaths


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


def materialize_domain(domain_dir, instance, trigger: str = "mesh up") -> DomainResult:
    """Run every asset of one domain in one in-process Dagster run recorded in ``instance``."""
    from mesh_platform.factory import build_domain_definitions

    started = time.perf_counter()
    defs = build_domain_definitions(domain_dir)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, tags={"mesh/trigger": trigger}
    )
    return _summarise(domain_dir.name, result, time.perf_counter() - started)


def run_mesh(
    paths: MeshPaths,
    only: list[str] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[DomainResult], None] | None = None,
) -> list[DomainResult]:
    """Materialise the mesh domain by domain, producers first; a failed producer skips its consumers.

    Returns:
        One result per domain that ran, in the order they ran.
    """
    import dagster as dg

    from mesh_platform.spec.crosscheck import domain_dependencies, domain_order
    from mesh_platform.spec.loader import load_mesh

    domains, _ = load_mesh(paths.domains)
    deps = domain_dependencies(domains)
    ensure_instance(paths)
    results: list[DomainResult] = []
    failed: set[str] = set()
    with dg.DagsterInstance.get() as instance:
        for name in domain_order(domains):
            if only and name not in only:
                continue
            if deps[name] & failed:
                failed.add(name)
                skipped = DomainResult(name, "-", False, 0.0, error="skipped: an upstream domain failed")
                results.append(skipped)
                if on_done:
                    on_done(skipped)
                continue
            if on_start:
                on_start(name)
            result = materialize_domain(domains[name].path, instance)
            if not result.success:
                failed.add(name)
            results.append(result)
            if on_done:
                on_done(result)
    return results
