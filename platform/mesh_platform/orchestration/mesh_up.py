"""`mesh up`: materialise every domain in dependency order, runs recorded in the instance."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mesh_platform.dbt.forkserver import forkserver
from mesh_platform.orchestration.profile import distributed
from mesh_platform.orchestration.queued_runs import run_through_queue
from mesh_platform.orchestration.run_events import StepEvent, emit, listener, set_queue
from mesh_platform.orchestration.run_summary import (
    FailedCheck,
    exception_message,
    failed_checks,
    root_message,
)
from mesh_platform.settings import MeshPaths, mesh_paths

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain

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
    quarantined: int = 0  # rows of this run's landed files kept in quarantine, with the reason
    rejected_files: int = 0  # landed files that could not be read at all (moved aside)
    error: str | None = None
    failed_checks: list[FailedCheck] = field(default_factory=list)


def port_reads(domain: Domain) -> set[str]:
    """The other domains' ports (``domain/port``) a domain's products read."""
    return {
        inp.product
        for product in domain.products.values()
        for inp in product.input_ports
        if inp.kind == "port" and inp.product and inp.domain != domain.name
    }


def unpublished(reads: set[str], failed: dict[str, DomainResult]) -> list[str]:
    """The ports read from failed domains that their run did not publish.

    A consumer waits only for what it reads: a producer whose model failed after its ports
    were published does not hold back the domains that read those ports. Published ports are
    known by their asset's name (the dbt model's): one published under another name counts as
    unpublished, and its consumers are skipped, as for any failed producer.
    """
    missing = []
    for port in sorted(reads):
        domain, name = port.split("/")
        if domain in failed and name not in failed[domain].ports:
            missing.append(port)
    return missing


def ensure_instance(paths: MeshPaths) -> None:
    """Create DAGSTER_HOME with the project's dagster.yaml (per the profile) and its storage, once.

    Creating the storage runs schema migrations; done here in one process, so parallel
    workers never race to create the same tables.
    """
    import dagster as dg

    from mesh_platform.orchestration.profile import instance_config

    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    config = instance_config(paths.dagster_project / "dagster.yaml")
    header = "# Written by mesh from dagster_project/dagster.yaml and the profile: do not edit.\n"
    text = header + yaml.safe_dump(config, sort_keys=False)
    (paths.dagster_home / "dagster.yaml").write_text(text, encoding="utf-8")
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)  # touches run storage: created and migrated now


def _summarise(domain: str, result, seconds: float) -> DomainResult:
    out = DomainResult(domain, result.run_id, result.success, round(seconds, 1))
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out.materialized += 1
        meta = mat.metadata
        if "mesh/snapshot_id" in meta:
            out.ports[mat.asset_key.path[-1]] = int(meta["dagster/row_count"].value)
        out.quarantined += int(meta["mesh/quarantined"].value) if "mesh/quarantined" in meta else 0
        if "mesh/rejected_files" in meta:
            out.rejected_files += int(meta["mesh/rejected_files"].value)
    out.failed_checks = failed_checks(result)
    out.checks_failed = len(out.failed_checks)
    out.checks_passed = len(result.get_asset_check_evaluations()) - out.checks_failed
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        out.error = root_message(failures[0].step_failure_data.error) if failures else "failed"
    return out


@contextlib.contextmanager
def _output_to(log_file: Path):
    """Send this process's stdout/stderr (dbt's output included) to a file, then restore them."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log_file.open("a") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def materialize_domain(domain_dir: Path, log_dir: Path | None = None) -> DomainResult:
    """Run every asset of one domain in one in-process Dagster run recorded in the instance.

    Args:
        domain_dir: the domain's folder.
        log_dir: when given, the run's console output goes to ``<log_dir>/<domain>.log``.
    """
    if log_dir is None:
        return _materialize(domain_dir)
    with _output_to(log_dir / f"{domain_dir.name}.log"):
        return _materialize(domain_dir)


def _materialize(domain_dir: Path, trigger: str = "mesh up") -> DomainResult:
    import dagster as dg

    from mesh_platform.orchestration.location_runs import execute_location_job

    started = time.perf_counter()
    domain = domain_dir.name
    tags = {"mesh/trigger": trigger, "mesh/domain": domain}
    if distributed():  # through the run queue: the daemon, a code server, the Celery workers
        emit(StepEvent(domain, "queued", "started"))
        result = run_through_queue(domain_dir, _QUIET, tags)
        return _summarise(domain, result, time.perf_counter() - started)
    run_id = str(uuid.uuid4())  # known ahead, so the listener hears this run's steps only
    with dg.DagsterInstance.get() as instance:
        instance.add_event_listener(run_id, listener(domain))
        emit(StepEvent(domain, "definitions", "started"))
        # The run is recorded with the domain's code location: the UI can re-execute it.
        result = execute_location_job(
            instance, domain, str(mesh_paths().root), run_id, _QUIET, tags
        )
        return _summarise(domain, result, time.perf_counter() - started)


def _mark_worker(events=None) -> None:
    """Tell code in a forked worker where it runs (dbt must not parse in-process here).

    Args:
        events: the queue step events go back to the parent by (inherited at fork).
    """
    from mesh_platform.dbt.project import FORKED_WORKER_ENV

    os.environ[FORKED_WORKER_ENV] = "1"
    set_queue(events)


def _preload() -> None:
    """Import the heavy modules once in the parent, so forked workers start without paying it.

    Not the models' libraries, which their train and score steps import: the pool forks its
    workers at its first submit, so they would have to load here, before any domain starts
    (2.2 s measured, and for `mesh up -d` of a domain without models too), against the same
    import in the first model step of each worker; measured, no faster (bench/README.md).
    """
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    import mesh_platform.orchestration.factory  # noqa: F401


def run_mesh(
    paths: MeshPaths,
    only: list[str] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[DomainResult], None] | None = None,
    workers: int = 2,
    on_event: Callable[[StepEvent], None] | None = None,
) -> list[DomainResult]:
    """Materialise the mesh, producers before consumers, independent domains side by side.

    A domain starts as soon as every domain whose ports it reads has succeeded; a failed producer
    skips its consumers, so they never build on missing or stale data. ``on_event`` hears each
    step of each domain's run as it starts and ends (sent back from the workers by a queue).

    Returns:
        One result per domain, in the order they finished.

    """
    # In-process runs send their dbt commands to one fork server: dbt's imports are paid once per
    # `mesh up`, not once per domain. Distributed runs execute on workers elsewhere.
    with contextlib.nullcontext() if distributed() else forkserver():
        return _run_domains(paths, only, on_start, on_done, workers, on_event)


def _run_domains(
    paths: MeshPaths,
    only: list[str] | None,
    on_start: Callable[[str], None] | None,
    on_done: Callable[[DomainResult], None] | None,
    workers: int,
    on_event: Callable[[StepEvent], None] | None,
) -> list[DomainResult]:
    from mesh_platform.descriptors.crosscheck import domain_dependencies
    from mesh_platform.descriptors.loader import load_mesh

    domains, _ = load_mesh(paths.domains)
    wanted = [d for d in domains if not only or d in only]
    deps = {d: domain_dependencies(domains)[d] & set(wanted) for d in wanted}
    ensure_instance(paths)
    results: list[DomainResult] = []
    log_dir = paths.home / "logs" / time.strftime("%Y%m%dT%H%M%S")

    def finish(result: DomainResult) -> None:
        results.append(result)
        if on_done:
            on_done(result)

    _preload()
    # Processes, not threads: Dagster captures stdout/stderr per run, which deadlocked two runs
    # sharing one process. Forked workers inherit the preloaded imports (~5 s each otherwise).
    context = multiprocessing.get_context("fork")
    events = context.Queue()

    def relay() -> None:
        while not events.empty():
            event = events.get()
            if on_event:
                on_event(event)

    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_mark_worker, initargs=(events,)
    ) as pool:
        pending, running = set(wanted), {}
        reads = {d: port_reads(domains[d]) for d in wanted}
        while pending or running:
            finished_ok = {r.domain for r in results if r.success}
            failed = {r.domain: r for r in results if not r.success}
            for name in sorted(pending):
                missing = unpublished(reads[name], failed)
                if missing:
                    pending.discard(name)
                    why = f"skipped: {', '.join(missing)} not published (an upstream domain failed)"
                    finish(DomainResult(name, "-", False, 0.0, error=why))
                elif deps[name] <= finished_ok | set(failed) and len(running) < workers:
                    pending.discard(name)
                    if on_start:
                        on_start(name)
                    future = pool.submit(materialize_domain, domains[name].path, log_dir)
                    running[future] = name
            if running:
                # A short timeout only to relay step events; a finished domain still wakes it.
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                relay()
                for future in finished:
                    name = running.pop(future)
                    try:
                        finish(future.result())
                    except Exception as exc:  # noqa: BLE001 - reported as the domain's failure
                        finish(DomainResult(name, "-", False, 0.0, error=exception_message(exc)))
    relay()
    return results
