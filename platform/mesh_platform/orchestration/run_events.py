"""Step events of `mesh up`'s runs: what each domain is doing, sent from workers to the parent."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StepEvent:
    """Progress of one domain's run: a step started, or ended ok or failed, after ``seconds``."""

    domain: str
    step: str  # "definitions" (loading the code location), else the Dagster step's name
    status: str  # started | ok | failed
    seconds: float = 0.0


_queue = None  # in a forked worker: the queue its step events go back to the parent by


def set_queue(queue) -> None:
    """Send this process's step events to ``queue`` (None: drop them)."""
    global _queue
    _queue = queue


def emit(event: StepEvent) -> None:
    """Send a step event to the parent, if this process has a queue."""
    if _queue is not None:
        _queue.put(event)


def _step_name(domain: str, step_key: str) -> str:
    """``sales_dbt_build`` -> ``dbt_build``: the domain is said once, beside it."""
    return step_key.removeprefix(f"{domain}__").removeprefix(f"{domain}_")


def listener(domain: str) -> Callable:
    """A Dagster instance event listener turning the run's step events into StepEvents."""
    started: dict[str, float] = {"definitions": time.perf_counter()}

    def on_event(entry) -> None:
        event = entry.dagster_event
        if event is not None and event.event_type_value == "PIPELINE_START":
            # The run starts once the location's definitions are loaded and the plan is made.
            seconds = round(time.perf_counter() - started["definitions"], 1)
            emit(StepEvent(domain, "definitions", "ok", seconds))
        if event is None or event.step_key is None:
            return
        name = _step_name(domain, event.step_key)
        if event.is_step_start:
            started[event.step_key] = time.perf_counter()
            emit(StepEvent(domain, name, "started"))
        elif event.is_step_success or event.is_step_failure:
            seconds = time.perf_counter() - started.get(event.step_key, time.perf_counter())
            status = "ok" if event.is_step_success else "failed"
            emit(StepEvent(domain, name, status, round(seconds, 1)))

    return on_event
