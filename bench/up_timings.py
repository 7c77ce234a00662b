"""Where a `mesh up`'s time went, per domain and per step, from what the platform records.

No timer of its own: it reads

* the Dagster instance of the run's MESH_HOME: one run per domain (tag ``mesh/trigger``), its
  create / start / end times, every step's start and end (``get_run_step_stats``) and the
  dbt step's ``mesh/timing`` log entry (``mesh_platform.dbt.assets.Laps``: prepare, dbt,
  metadata, publish, records, lineage);
* dbt's ``run_results.json`` of that run (``$MESH_HOME/dbt/<domain>/target/run-<run id[:8]>/``):
  ``invocation_started_at`` (dbt's command began: its process started and imported),
  ``generated_at`` (it ended) and ``elapsed_time`` (running the nodes, after the parse);
* `mesh up`'s own progress lines ("<domain>: definitions ok (2.1s)"), the seconds from a
  worker taking the domain until its run started (loading the code location, creating the run).

Steps fall in the categories of issue 17: definitions, ingestion, dbt (``dbt start``: the
platform's pins and sandbox guard, then the dbt process until its command begins; ``dbt parse``:
dbt's parse and adapter set-up; ``dbt run``: models and data tests), metadata (row counts, column
lineage), publish (with the contract checks), checks (governance), lineage, models, and the rest
of Dagster's run (``dagster``: plan, step launch, event storage).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

CATEGORIES = ("definitions", "ingestion", "dbt start", "dbt parse", "dbt run", "metadata",
              "publish", "checks", "lineage", "models", "dagster")  # fmt: skip

_INSTANCE_SCRIPT = """
import json, sys
from datetime import datetime, timezone
import dagster as dg
since = datetime.fromtimestamp(float(sys.argv[1]), timezone.utc)
out = []
with dg.DagsterInstance.get() as inst:
    flt = dg.RunsFilter(tags={"mesh/trigger": "mesh up"}, created_after=since)
    for rec in inst.get_run_records(filters=flt):
        run = rec.dagster_run
        timing = [e.user_message for e in inst.all_logs(run.run_id)
                  if (e.user_message or "").startswith("mesh/timing ")]
        steps = [{"key": s.step_key, "start": s.start_time, "end": s.end_time,
                  "status": s.status.value if s.status else None}
                 for s in inst.get_run_step_stats(run.run_id)]
        out.append({"domain": run.tags.get("mesh/domain"), "run_id": run.run_id,
                    "status": run.status.value, "created": rec.create_timestamp.timestamp(),
                    "start": rec.start_time, "end": rec.end_time, "steps": steps,
                    "timing": [json.loads(t.split(" ", 1)[1]) for t in timing]})
print(json.dumps(out))
"""


def instance_runs(python: Path, env: dict[str, str], since: float) -> list[dict]:
    """The `mesh up` runs created after ``since`` (epoch s) in the instance ``env`` points to."""
    proc = subprocess.run(
        [str(python), "-c", _INSTANCE_SCRIPT, str(since)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"reading the Dagster instance failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def definitions_seconds(output: str) -> dict[str, float]:
    """Seconds each domain's worker took to load its code location, as `mesh up` printed them."""
    pattern = r"^\[\s*[\d.]+s\] (\w+): definitions ok \(([\d.]+)s\)"
    return {m[1]: float(m[2]) for m in re.finditer(pattern, output, re.M)}


def dbt_phases(home: Path, domain: str, run_id: str) -> tuple[float, float] | None:
    """dbt's own (seconds from its command's start to its end, seconds running nodes)."""
    found = sorted((home / "dbt" / domain / "target").glob(f"run-{run_id[:8]}*/run_results.json"))
    if not found:
        return None
    doc = json.loads(found[-1].read_text())
    meta = doc["metadata"]
    began, ended = (
        datetime.fromisoformat(meta[k].replace("Z", "+00:00"))
        for k in ("invocation_started_at", "generated_at")
    )
    return (ended - began).total_seconds(), float(doc["elapsed_time"])


def category(domain: str, step: str) -> str:
    """The category of one Dagster step of a domain's run, by its key."""
    name = step.removeprefix(f"{domain}__").removeprefix(f"{domain}_")
    if name == "dbt_build":
        return "dbt"
    if "governance" in name:
        return "checks"
    if name.startswith("raw_"):  # an ingestion asset: raw.<entity>
        return "ingestion"
    return "models"  # a domain's other steps are its models' training and scoring


def domain_breakdown(home: Path, run: dict, definitions: float | None) -> dict[str, float]:
    """Seconds per category of one domain's run, adding up to its wall time from worker start."""
    out: dict[str, float] = dict.fromkeys(CATEGORIES, 0.0)
    out["definitions"] = definitions or 0.0
    in_steps = 0.0
    for step in run["steps"]:
        if step["start"] is None or step["end"] is None:
            continue
        seconds = step["end"] - step["start"]
        in_steps += seconds
        kind = category(run["domain"], step["key"])
        if kind != "dbt":
            out[kind] += seconds
            continue
        laps = run["timing"][0] if run["timing"] else {}
        dbt = laps.get("dbt", seconds)
        command, nodes = dbt_phases(home, run["domain"], run["run_id"]) or (0.0, 0.0)
        out["dbt run"] += nodes
        out["dbt parse"] += command - nodes
        out["dbt start"] += dbt - command + laps.get("prepare", 0.0)
        out["metadata"] += laps.get("metadata", 0.0)
        out["publish"] += laps.get("publish", 0.0)
        out["lineage"] += laps.get("lineage", 0.0)
        timed = ("prepare", "dbt", "metadata", "publish", "lineage")
        out["dagster"] += seconds - sum(laps.get(k, 0.0) for k in timed)  # "records" included
    if run["start"] and run["end"]:
        # Outside the steps from the run's start to its end: the plan, step launch, run events.
        # (Before the start, from loading the definitions on, is counted as "definitions".)
        out["dagster"] += run["end"] - run["start"] - in_steps
    out["total"] = sum(out[c] for c in CATEGORIES)
    return {k: round(v, 2) for k, v in out.items()}


def breakdown(home: Path, runs: list[dict], output: str, started_at: float, wall: float) -> dict:
    """Per domain and per category, plus the mesh-wide start-up and finish around the runs.

    ``startup``: from the process start until the first domain's worker began loading its
    definitions (Python and imports, `mesh prepare`'s staleness check, the instance, the pool);
    ``finish``: after the last run ended until the process exited (summary, pool shut-down).
    """
    defs = definitions_seconds(output)
    runs = sorted(runs, key=lambda r: r["start"] or 0.0)  # in the order the domains started
    domains = {r["domain"]: domain_breakdown(home, r, defs.get(r["domain"])) for r in runs}
    begins = [r["start"] - defs.get(r["domain"], 0.0) for r in runs if r["start"]]
    ends = [r["end"] for r in runs if r["end"]]
    return {
        "startup": round(min(begins) - started_at, 2) if begins else None,
        "finish": round(started_at + wall - max(ends), 2) if ends else None,
        "domains": domains,
    }


if __name__ == "__main__":  # quick look at a kept MESH_HOME: python up_timings.py HOME SINCE
    import os

    home = Path(sys.argv[1])
    env = {**os.environ, "MESH_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    found = instance_runs(Path(sys.executable), env, float(sys.argv[2]))
    print(json.dumps([domain_breakdown(home, r, None) | {"d": r["domain"]} for r in found]))
