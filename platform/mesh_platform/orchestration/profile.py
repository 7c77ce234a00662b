"""The distributed profile's Dagster side: the instance on PostgreSQL, steps on Celery workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from mesh_platform.settings import PROFILE_ENV, mesh_profile

# Every endpoint of the profile comes from the environment, read where it is used (the run
# worker, the Celery workers): run configs and the instance's dagster.yaml name the variables,
# never their values, so no password lands in run storage or the UI.
INSTANCE_DB_ENV = "MESH_DAGSTER_PG_URL"  # postgresql://user:password@host:port/database
BROKER_ENV = "MESH_CELERY_BROKER"  # redis://host:port/0 (or amqp://...)
BACKEND_ENV = "MESH_CELERY_BACKEND"  # where step results go back; default: the broker
WEBSERVER_ENV = "MESH_DAGSTER_URL"  # http://host:port of the webserver `mesh up` submits to
REQUIRED = (INSTANCE_DB_ENV, BROKER_ENV, WEBSERVER_ENV)


class ProfileError(RuntimeError):
    """The distributed profile misses an endpoint: the message names the variable."""


def distributed() -> bool:
    """True when the mesh runs on the distributed profile (MESH_PROFILE or mesh.yaml)."""
    return mesh_profile() == "distributed"


def require_endpoints(names: tuple[str, ...] = REQUIRED) -> None:
    """Fail with every unset endpoint variable named, before anything starts.

    Raises:
        ProfileError: one or more variables are unset.

    """
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ProfileError(
            f"{PROFILE_ENV}=distributed needs {', '.join(missing)} (docs/scale-out.md); "
            "`mesh stack` starts the services and sets them"
        )


def instance_config(project_yaml: Path) -> dict[str, Any]:
    """The Dagster instance's dagster.yaml: the project's, on PostgreSQL when distributed.

    The run queue and its limits (one run per domain) come from the project's file unchanged;
    the distributed profile adds run, event-log and schedule storage on PostgreSQL.
    """
    config = yaml.safe_load(project_yaml.read_text(encoding="utf-8")) or {}
    if distributed():
        require_endpoints((INSTANCE_DB_ENV,))
        config["storage"] = {"postgres": {"postgres_url": {"env": INSTANCE_DB_ENV}}}
    return config


def domain_executor() -> dg.ExecutorDefinition:
    """How a domain's steps run: in the run's process, or on Celery workers when distributed.

    Embedded, a run pays Python's start-up once; distributed, each step is a Celery task that
    any worker may take (the broker and result backend named by environment variables).
    """
    if not distributed():
        return dg.in_process_executor
    from dagster_celery import celery_executor

    broker = {"env": BROKER_ENV}
    backend = {"env": BACKEND_ENV if os.environ.get(BACKEND_ENV) else BROKER_ENV}
    # A worker takes one step at a time and holds none back: steps are long, not many.
    source = {"worker_prefetch_multiplier": 1}
    return celery_executor.configured(
        {"broker": broker, "backend": backend, "config_source": source}
    )
