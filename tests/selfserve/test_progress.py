"""Progress of `mesh up` and `mesh generate` in a log (no terminal): one plain line per event."""

from __future__ import annotations

import io
import re

from mesh_platform.cli.build import summary_line
from mesh_platform.cli.progress import GenerateProgress, UpProgress
from mesh_platform.orchestration.mesh_up import DomainResult
from mesh_platform.orchestration.run_events import StepEvent, listener, set_queue
from rich.console import Console


def plain_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_up_progress_prints_one_line_per_domain_step():
    console, out = plain_console()
    with UpProgress(console) as progress:
        assert not progress.live
        progress.start("sales")
        progress.event(StepEvent("sales", "dbt_build", "started"))
        progress.event(StepEvent("sales", "dbt_build", "ok", 12.34))
        progress.done(DomainResult("sales", "r1", True, 20.0, materialized=7,
                                   ports={"order_lines": 10, "daily_revenue": 5}))  # fmt: skip
        progress.done(DomainResult("web", "-", False, 0.0, error="skipped"))
    lines = [re.sub(r"^\[\s*[\d.]+s\] ", "", line) for line in out.getvalue().splitlines()]
    assert lines == [
        "sales: started",
        "sales: dbt_build started",
        "sales: dbt_build ok (12.3s)",
        "sales: ok in 20.0s, 7 assets, 2 port(s) published",
        "web: failed in 0.0s, 0 assets",
    ]
    assert all(re.match(r"^\[\s*\d+\.\ds\] ", line) for line in out.getvalue().splitlines())


def test_generate_progress_lines_and_summary_line():
    console, out = plain_console()
    with GenerateProgress(console) as progress:
        progress("customers", 1, 26)
        progress("catalog", 2, 26)
    assert out.getvalue().splitlines() == [
        "generating: customers (1/26)", "generating: catalog (2/26)"]  # fmt: skip
    results = [DomainResult("a", "1", True, 1, ports={"p": 1000}), DomainResult("b", "2", False, 1)]
    assert summary_line(results, 3.21) == (
        "1 of 2 domains ok (failed: b); 1 ports published, 1,000 rows; total 3.2s")  # fmt: skip


class _Event:
    def __init__(self, step_key, kind):
        self.step_key = step_key
        self.is_step_start = kind == "start"
        self.is_step_success = kind == "success"
        self.is_step_failure = kind == "failure"
        self.event_type_value = "PIPELINE_START" if kind == "run_start" else "STEP_EVENT"


class _Entry:
    def __init__(self, step_key, kind):
        self.dagster_event = _Event(step_key, kind) if kind else None


class _Queue(list):
    def put(self, item):
        self.append(item)


def test_worker_listener_turns_step_events_into_progress():
    queue = _Queue()
    set_queue(queue)
    try:
        on_event = listener("sales")
        steps = [(None, "run_start"), ("sales_dbt_build", "start"), ("sales_dbt_build", None),
                 ("sales_dbt_build", "failure"), ("ingest_x", "success")]  # fmt: skip
        for key, kind in steps:
            on_event(_Entry(key, kind))
    finally:
        set_queue(None)
    assert [(e.domain, e.step, e.status) for e in queue] == [
        ("sales", "definitions", "ok"),  # the run starts once the location's code is loaded
        ("sales", "dbt_build", "started"), ("sales", "dbt_build", "failed"),
        ("sales", "ingest_x", "ok")]  # fmt: skip
