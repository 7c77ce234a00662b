"""The benchmark's breakdown of a `mesh up` adds the recorded step times up per category."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _timings():
    spec = importlib.util.spec_from_file_location("up_timings", BENCH / "up_timings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["up_timings"] = module
    spec.loader.exec_module(module)
    return module


def _step(key: str, start: float, end: float) -> dict:
    return {"key": key, "start": start, "end": end, "status": "SUCCESS"}


def test_a_domains_run_splits_into_the_issues_categories(tmp_path):
    ut = _timings()
    run_id = "0123abcd-0000-0000-0000-000000000000"
    target = tmp_path / "dbt" / "sales" / "target" / f"run-{run_id[:8]}"
    target.mkdir(parents=True)
    meta = {"invocation_started_at": "2026-12-05T00:00:01Z", "generated_at": "2026-12-05T00:00:04Z"}
    (target / "run_results.json").write_text(json.dumps({"metadata": meta, "elapsed_time": 1.0}))
    laps = {"prepare": 0.5, "dbt": 5.0, "metadata": 0.25, "publish": 0.5, "records": 0.25,
            "lineage": 1.0}  # fmt: skip
    run = {
        "domain": "sales", "run_id": run_id, "start": 100.0, "end": 121.0, "timing": [laps],
        "steps": [_step("sales__raw_erp_orders", 100.5, 102.0),
                  _step("sales_dbt_build", 102.0, 110.0),
                  _step("sales__units_forecast_model", 110.0, 118.0),
                  _step("sales__units_forecast", 118.0, 119.0),
                  _step("sales_governance", 119.0, 120.0)],
    }  # fmt: skip
    found = ut.domain_breakdown(tmp_path, run, definitions=2.0)
    assert found["definitions"] == 2.0
    assert found["ingestion"] == 1.5
    assert found["models"] == 9.0  # training and scoring
    assert found["checks"] == 1.0
    assert found["dbt run"] == 1.0  # dbt's elapsed_time
    assert found["dbt parse"] == 2.0  # its command's 3 s less the nodes' 1 s
    assert found["dbt start"] == 2.5  # 5 s in dbt less its command's 3 s, plus the 0.5 s prepare
    assert (found["metadata"], found["publish"], found["lineage"]) == (0.25, 0.5, 1.0)
    # the dbt step's 8 s less its timed parts (0.75 s), plus the run's 1.5 s outside any step
    assert found["dagster"] == pytest.approx(2.25)
    assert found["total"] == pytest.approx(2.0 + 121.0 - 100.0)


def test_mesh_ups_progress_lines_give_each_domains_definitions_seconds():
    out = "[    3.7s] customers: definitions ok (0.5s)\n[   14.6s] sales: definitions ok (1.8s)\n"
    assert _timings().definitions_seconds(out) == {"customers": 0.5, "sales": 1.8}
