"""Celery workers that execute the steps of the domains' runs (dagster-celery's task app)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mesh_platform.stack.procs import start

# dagster-celery's app module (its `execute_plan` task); its queue is "dagster".
CELERY_APP = "dagster_celery.app"
QUEUE = "dagster"


def worker_command(name: str, concurrency: int = 1) -> list[str]:
    """The command of one worker: ``concurrency`` pool processes, one step each at a time.

    The broker and result backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND, which
    take precedence over dagster-celery's defaults.
    """
    celery = str(Path(sys.executable).with_name("celery"))
    return [celery, "-A", CELERY_APP, "worker", "-Q", QUEUE, "-n", f"{name}@%h",
            "-c", str(concurrency), "--prefetch-multiplier=1", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip


def start_worker(
    name: str, logs: Path, env: dict[str, str], cwd: Path, concurrency: int = 1
) -> subprocess.Popen:
    """Start one worker in its own process group, output to ``logs``/NAME.log."""
    return start(worker_command(name, concurrency), logs / f"{name}.log", env=env, cwd=cwd)
