"""In-process runs of a domain's job that the UI can re-execute: recorded with their location.

`execute_in_process` records a run with no code location, so the UI cannot re-execute it. Here
the run is created with the origin of the domain's code location (the workspace names a domain's
location after the domain, from ``domain_location``) and executed in this process from a
reconstructable job, as `dagster job execute` does. Re-executing it from the UI resolves the
job by location and repository name in the running workspace, and launches it there.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

LOCATION_MODULE = "mesh_platform.orchestration.domain_location"
REPOSITORY = "__repository__"  # the repository a Definitions object is loaded as
ASSET_JOB = "__ASSET_JOB"  # every asset of the location: what "Materialize all" runs


def _origin(domain: str, working_directory: str) -> tuple[ReconstructableRepository, Any]:
    """The domain's reconstructable repository and the code location origin the UI knows it by."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=LOCATION_MODULE,
        attribute=domain,
        working_directory=working_directory,
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, location_name=domain)
    repo = ReconstructableRepository.for_module(LOCATION_MODULE, domain, working_directory)
    return repo, RemoteRepositoryOrigin(location, REPOSITORY)


def execute_location_job(
    instance: dg.DagsterInstance,
    domain: str,
    working_directory: str,
    run_id: str,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
    job_name: str = ASSET_JOB,
) -> dg.ExecutionResult:
    """Run one job of a domain's code location in this process, as a re-executable run.

    Args:
        instance: the Dagster instance the run is recorded in.
        domain: the domain (= its code location's name).
        working_directory: the mesh root (the location's working directory).
        run_id: the run's id (known ahead by the caller's event listener).
        run_config: the run's config.
        tags: the run's tags.
        job_name: the job (default: every asset of the location).

    Returns:
        The run's result (events, success).
    """
    repo, repo_origin = _origin(domain, working_directory)
    job = repo.get_reconstructable_job(job_name)
    run = instance.create_run_for_job(
        job.get_definition(),
        run_id=run_id,
        run_config=run_config,
        tags=tags,
        remote_job_origin=RemoteJobOrigin(repo_origin, job_name),
        job_code_origin=job.get_python_origin(),
    )
    return execute_run(job, run, instance)
