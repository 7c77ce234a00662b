"""The mesh runs itself: with `mesh ui` and `mesh serve` up and nothing typed, data flow through.

One freshly built mesh (its own MESH_HOME), then, in order: nothing runs at start-up; a run of
`mesh up` is re-executed from the UI; a sales delivery lands and events are posted to the API;
every consumer rebuilds and the server answers from the new predictions; a delivery the port
contract refuses moves nothing downstream; no run failed but the refused one.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.live import LiveMesh, domain_run, latest_publish, run_failure, runs_since, settled
from tests.support import run_mesh, wait_for

pytestmark = pytest.mark.slow  # tests/integration/ runs in the "heavy" group (conftest)

FEATURES = ["personalization", "customer_features"]
SCORES = ["personalization", "recommendations"]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A demo mesh built for this module alone: the test's runs change its ports."""
    home = tmp_path_factory.mktemp("live") / "mesh"
    proc = run_mesh(home, "up", "--scale", "0.1", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home


def _land_sales_order(home: Path) -> None:
    """A new order with one line, a copy of the newest delivered order under a new id."""
    sales = home / "landing" / "sales"
    line = pq.read_table(sorted(sales.glob("order_lines_*.parquet"))[-1]).slice(0, 1)
    order = pq.read_table(sorted(sales.glob("orders_*.parquet"))[-1])
    order = order.filter(pc.field("order_id") == line["order_id"][0].as_py())
    new_id = pa.array([987_654_321], pa.int64())
    order = order.set_column(0, "order_id", new_id)
    pq.write_table(line.set_column(0, "order_id", new_id), sales / "order_lines_live.parquet")
    pq.write_table(order, sales / "orders_live.parquet")


def _refused_customer(home: Path) -> None:
    """A customer the source contract accepts and the port contract refuses (born 2021)."""
    crm = home / "landing" / "customers" / "crm_customers.csv"
    header = crm.read_text().splitlines()[0]
    row = "999999,Tim,Young,tim.young.999999@example.com,2021-05-05,Rome,IT,2026-01-02,true"
    (crm.parent / "crm_customers_late.csv").write_text(f"{header}\n{row}\n")


def test_the_mesh_runs_itself(home):
    with LiveMesh(home) as live:
        started = time.time()
        time.sleep(25)  # two landing-sensor and five port-sensor ticks: nothing has changed
        assert runs_since(home, started - live.ui_started_s) == [], "work launched at start-up"
        before = {tuple(k): latest_publish(home, k) for k in (["sales", "order_lines"], FEATURES)}

        # An ordinary run: `mesh up`'s run of customers is re-executed from the UI.
        live.reexecute(domain_run(home, "customers").dagster_run.run_id)

        _land_sales_order(home)
        assert live.post_events(7, [12, 13]) == 202
        assert wait_for(lambda: settled(home, started) and runs_since(home, started),
                        timeout=600, step=2)  # fmt: skip
        time.sleep(12)  # a port sensor tick after the last publish: nothing more to run
        assert wait_for(lambda: settled(home, started), timeout=600, step=2)
        runs = runs_since(home, started)
        failed = [r for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
        assert not failed, [(r.job_name, r.status, run_failure(home, r.run_id)) for r in failed]
        jobs = {r.job_name for r in runs}
        assert {"sales_ingest", "web_ingest", "__ASSET_JOB", "personalization_rebuild"} <= jobs
        assert "personalization_retrain" not in jobs  # new data are scored, not trained on
        for key, old in before.items():
            new = latest_publish(home, list(key))
            assert new and old and new.storage_id > old.storage_id, f"{key} not republished"
        scores = latest_publish(home, SCORES)
        assert scores and wait_for(lambda: live.served_snapshot() == scores.snapshot_id, 30, 0.5)

        # A delivery the port contract refuses: the customers run fails, nothing downstream moves.
        refused_at, features = time.time(), latest_publish(home, FEATURES)
        _refused_customer(home)
        assert wait_for(lambda: any(r.job_name == "customers_ingest"
                                    for r in runs_since(home, refused_at)), 120, 1)  # fmt: skip
        assert wait_for(lambda: settled(home, refused_at), timeout=300, step=2)
        time.sleep(12)  # a port sensor tick after the refusal
        after = [r for r in runs_since(home, refused_at) if r.tags.get("mesh/trigger") != "drift"]
        assert [(r.job_name, r.status) for r in after] == [
            ("customers_ingest", dg.DagsterRunStatus.FAILURE)
        ]
        # A retraining the drift sensor asked for (new features scored) is the mesh at work too.
        assert wait_for(lambda: settled(home, started), timeout=600, step=2)
        assert latest_publish(home, FEATURES) == features
        time.sleep(max(0.0, started + 120 - time.time()))  # watch the UI's first two minutes whole
        assert wait_for(lambda: settled(home, started), timeout=600, step=2)
        failed = [r.job_name for r in runs_since(home, started)
                  if r.status == dg.DagsterRunStatus.FAILURE]  # fmt: skip
        assert failed == ["customers_ingest"]
