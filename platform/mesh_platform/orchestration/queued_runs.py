"""A domain's run through the run queue: submitted to the webserver, dequeued by the daemon.

On the distributed profile `mesh up` does not execute runs itself: it submits each domain's
"materialize all" job to the webserver, as the UI's button does. The daemon dequeues it within
the instance's limits (one run per domain), the domain's code server launches the run worker,
and the run's steps go to the Celery workers. Its outcome is read back from the instance.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg

from mesh_platform.orchestration.location_runs import ASSET_JOB, REPOSITORY
from mesh_platform.orchestration.profile import WEBSERVER_ENV, require_endpoints

POLL_SECONDS = 1.0
RUN_TIMEOUT_SECONDS = 3600.0
SUBMIT_ATTEMPTS = 4


class LoggedRun:
    """A finished run read back from the instance, answering what ``ExecutionResult`` does."""

    def __init__(self, run_id: str, success: bool, events: list[dg.DagsterEvent]) -> None:
        self.run_id, self.success, self.all_events = run_id, success, events

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        """The run's materialisation events."""
        return [e for e in self.all_events if e.is_step_materialization]

    def get_asset_check_evaluations(self) -> list[Any]:
        """The run's asset check evaluations."""
        return [
            e.event_specific_data
            for e in self.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]


def _client():
    from dagster_graphql import DagsterGraphQLClient

    require_endpoints((WEBSERVER_ENV,))
    url = urlsplit(os.environ[WEBSERVER_ENV])
    return DagsterGraphQLClient(url.hostname or "127.0.0.1", port_number=url.port, timeout=60)


def submit(domain: str, run_config: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    """Queue a run of every asset of ``domain``'s code location; its id.

    The webserver holds one pooled connection to the instance's database: after the database
    restarted, its first query fails on the dead connection and the pool reconnects (measured
    by the PostgreSQL restart test). A submission refused for a lost connection wrote nothing,
    so it is tried again, a few times.
    """
    from dagster_graphql import DagsterGraphQLClientError

    client = _client()
    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            return client.submit_job_execution(
                ASSET_JOB, repository_location_name=domain, repository_name=REPOSITORY,
                run_config=dict(run_config), tags=dict(tags),
            )  # fmt: skip
        except DagsterGraphQLClientError as exc:
            if "OperationalError" not in str(exc) or attempt == SUBMIT_ATTEMPTS - 1:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def wait_run(instance: dg.DagsterInstance, run_id: str, timeout: float = RUN_TIMEOUT_SECONDS):
    """Wait for the run to finish; its result (success, events) from the instance.

    Raises:
        TimeoutError: the run did not finish in ``timeout`` seconds (it stays queued or running).

    """
    deadline = time.monotonic() + timeout
    while True:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            break
        if time.monotonic() > deadline:
            status = run.status.value if run else "unknown"
            raise TimeoutError(f"run {run_id} still {status} after {timeout:.0f}s")
        time.sleep(POLL_SECONDS)
    events = [r.dagster_event for r in instance.all_logs(run_id) if r.dagster_event is not None]
    return LoggedRun(run_id, run.status == dg.DagsterRunStatus.SUCCESS, events)


def run_through_queue(
    domain_dir: Path, run_config: Mapping[str, Any], tags: Mapping[str, str]
) -> LoggedRun:
    """Submit one domain's run and wait for it (any worker of the stack executes its steps)."""
    run_id = submit(domain_dir.name, run_config, tags)
    with dg.DagsterInstance.get() as instance:
        return wait_run(instance, run_id)
