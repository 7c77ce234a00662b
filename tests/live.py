"""A live mesh for tests and benchmarks: `mesh ui` and `mesh serve` over a built MESH_HOME."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from tests.support import (
    free_port,
    graphql,
    memory_mib,
    process_tree,
    start_mesh,
    stop,
    wait_for,
    wait_for_locations,
)

SERVED = "personalization/recommender"  # the demo's served product (its `serving:` block)
REEXECUTE = """mutation { launchPipelineReexecution(
  reexecutionParams: {parentRunId: "RUN_ID", strategy: ALL_STEPS}) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def http_json(url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """GET (or POST ``body`` as JSON) and return (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Publish:
    """The newest publish of a port asset: event-log storage id, time, snapshot and run."""

    storage_id: int
    timestamp: float
    snapshot_id: str | None
    run_id: str


def latest_publish(home: Path, key: list[str]) -> Publish | None:
    """The newest materialisation of an asset in the mesh's Dagster instance."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
        if not records:
            return None
        record = records[0]
        mat = record.asset_materialization
        snap = mat.metadata.get("mesh/snapshot_id") if mat else None
        value = getattr(snap, "value", snap)
        return Publish(record.storage_id, record.timestamp, str(value) if value else None,
                       record.run_id)  # fmt: skip


def runs_since(home: Path, since: float) -> list[dg.DagsterRun]:
    """Runs created at or after ``since`` (epoch seconds), oldest first, with their records."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        records = instance.get_run_records(dg.RunsFilter(created_after=_utc(since)))
        return [r.dagster_run for r in sorted(records, key=lambda r: r.create_timestamp)]


def run_failure(home: Path, run_id: str) -> str:
    """The first failure message in a run's event log (what the UI shows for a failed run)."""
    failures = (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event and event.event_type in failures:
                return f"{event.step_key or 'run'}: {record.message or event.message}"[:800]
    return "no failure event"


def settled(home: Path, since: float) -> bool:
    """No run created since ``since`` is queued, starting or in progress."""
    waiting = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}
    return not any(r.status.value in waiting for r in runs_since(home, since))


def run_times(home: Path, run_id: str) -> tuple[float | None, float | None]:
    """(start, end) epoch seconds of a run, None while it has not started or ended."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        [record] = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))
        return record.start_time, record.end_time


def domain_run(home: Path, domain: str, trigger: str = "mesh up") -> dg.RunRecord:
    """The newest run of a domain with a given trigger (default: its `mesh up` run)."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        tags = {"mesh/domain": domain, "mesh/trigger": trigger}
        return instance.get_run_records(dg.RunsFilter(tags=tags), limit=1)[0]


def _utc(epoch: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class LiveMesh:
    """`mesh ui` and `mesh serve` over a built mesh; stopped on exit."""

    home: Path
    ui_port: int = field(default_factory=free_port)
    serve_port: int = field(default_factory=free_port)
    ui_started_s: float = 0.0
    procs: list[subprocess.Popen] = field(default_factory=list)

    def __enter__(self) -> LiveMesh:
        started = time.monotonic()
        ui = start_mesh(self.home, "ui", "--port", str(self.ui_port), start_new_session=True,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        self.procs.append(ui)
        wait_for_locations(self.ui_port, ui)
        self.ui_started_s = time.monotonic() - started
        serve = start_mesh(self.home, "serve", "--product", SERVED, "--port", str(self.serve_port),
                           start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
        self.procs.append(serve)
        assert wait_for(lambda: self.ready().get("ready"), timeout=120, step=0.5), "not ready"
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            stop(proc)

    def ready(self) -> dict:
        """The server's readiness: which model and snapshot it serves."""
        try:
            return http_json(f"http://127.0.0.1:{self.serve_port}/v1/ready")[1] or {}
        except OSError:
            return {}

    def served_snapshot(self) -> str | None:
        """The predictions snapshot the server answers from."""
        return (self.ready().get("model") or {}).get("snapshot_id")

    def post_events(self, customer: int, products: list[int]) -> int:
        """Post one view and one add-to-cart per product for a customer; the status code."""
        events = [{"event_type": kind, "product_id": p, "customer_id": customer,
                   "session_id": f"live-{customer}", "device": "desktop"}
                  for p in products for kind in ("view", "add_to_cart")]  # fmt: skip
        url = f"http://127.0.0.1:{self.serve_port}/v1/events"
        return http_json(url, {"events": events})[0]

    def reexecute(self, run_id: str) -> str:
        """Re-execute a run through the webserver, as the UI's button does; the new run's id."""
        query = REEXECUTE.replace("RUN_ID", run_id)
        answer = graphql(self.ui_port, query)["launchPipelineReexecution"]
        assert answer["__typename"] == "LaunchRunSuccess", answer
        return answer["run"]["runId"]

    def ui_memory_mib(self) -> tuple[float, float]:
        """(RSS, PSS) summed over `mesh ui`'s process tree (webserver, daemon, code servers)."""
        sizes = [memory_mib(pid) for pid in process_tree(self.procs[0].pid)]
        return sum(rss for rss, _ in sizes), sum(pss for _, pss in sizes)


def _first_run(home: Path, job: str, since: float) -> dg.DagsterRun | None:
    return next((r for r in runs_since(home, since) if r.job_name == job), None)


def _landed_at(home: Path, since: float) -> float | None:
    """When the first events file landed in web's landing zone after ``since``."""
    times = [p.stat().st_mtime for p in (home / "landing" / "web").glob("events_api*.jsonl")]
    return min((t for t in times if t >= since), default=None)


def follow_event(live: LiveMesh, posted: float, timeout: float = 600) -> dict[str, Any]:
    """Wait until an event posted at ``posted`` is reflected by the served answer.

    Reflected: the server answers from the predictions snapshot published by the
    `personalization` rebuild that the `web` publish of the landed events triggered.

    Returns:
        Epoch seconds of each hop: landed, web_run_start/end, web_published,
        rebuild_start/end, predictions_published, served.
    """
    home = live.home
    at: dict[str, Any] = {"posted": posted}  # hop -> epoch seconds (and the snapshot served)
    deadline = time.time() + timeout
    while time.time() < deadline and "served" not in at:
        time.sleep(0.5)
        if "landed" not in at and (landed := _landed_at(home, posted)):
            at["landed"] = landed
        if "web_run_end" not in at and (web := _first_run(home, "web_ingest", posted)):
            start, end = run_times(home, web.run_id)
            at.update({"web_run_start": start} if start else {})
            if end:
                assert web.status == dg.DagsterRunStatus.SUCCESS, f"web run {web.status}"
                at["web_run_end"] = end
                pub = latest_publish(home, ["web", "product_interactions"])
                assert pub and pub.run_id == web.run_id, "web ran but did not publish"
                at["web_published"] = pub.timestamp
        if "web_published" in at and "rebuild_end" not in at:
            rebuild = _first_run(home, "personalization_rebuild", at["web_published"] - 1)
            if rebuild:
                start, end = run_times(home, rebuild.run_id)
                at.update({"rebuild_start": start} if start else {})
                if end:
                    assert rebuild.status == dg.DagsterRunStatus.SUCCESS, "rebuild failed"
                    at["rebuild_end"] = end
                    pub = latest_publish(home, ["personalization", "recommendations"])
                    assert pub and pub.run_id == rebuild.run_id, "rebuild published no scores"
                    at["predictions_published"], at["snapshot"] = pub.timestamp, pub.snapshot_id
        if "snapshot" in at and live.served_snapshot() == at["snapshot"]:
            at["served"] = time.time()
    assert "served" in at, f"the event was not reflected within {timeout} s: {at}"
    return at


HOPS = [
    ("landing flush (server buffer)", "posted", "landed"),
    ("landing sensor + run launch", "landed", "web_run_start"),
    ("web ingest run", "web_run_start", "web_run_end"),
    ("port sensor + run launch", "web_run_end", "rebuild_start"),
    ("personalization rebuild run", "rebuild_start", "rebuild_end"),
    ("server index swap", "rebuild_end", "served"),
]


def hop_seconds(at: dict[str, Any]) -> dict[str, float]:
    """Seconds spent in each hop, and the total from the event posted to the served answer."""
    hops = {name: round(at[end] - at[start], 1) for name, start, end in HOPS}
    return {**hops, "total": round(at["served"] - at["posted"], 1)}
