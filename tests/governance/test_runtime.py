"""Runtime policies read MESH_HOME: notes before the first run, findings once runs disagree."""

from __future__ import annotations

from mesh_platform.governance.model import Severity
from mesh_platform.governance.policies import lineage_complete
from mesh_platform.lineage import completeness
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import port_dataset, table_dataset

from tests.governance.conftest import failing, only
from tests.lineage.conftest import asset_run, dataset
from tests.support import MeshCopy

RUNTIME = ("lineage-complete", "model-gates")


def test_fresh_home_gives_notes_not_errors(mesh: MeshCopy):
    result = mesh.govern()
    notes = [f for f in result.findings if f.policy in RUNTIME]
    assert notes and {f.severity for f in notes} == {Severity.info}
    assert all("no run recorded yet" in f.message for f in notes)
    assert result.exit_code == 0


def test_an_asset_run_without_lineage_is_a_finding(mesh: MeshCopy, monkeypatch):
    paths = mesh.paths
    paths.dagster_home.mkdir(parents=True)
    mart = table_dataset(paths, "sales", "main", "order_lines")
    port = port_dataset(paths, "sales", "order_lines")
    append_events(paths.lineage, asset_run("sales", "order_lines", "dr-1", [dataset(mart, ["a"])],
                                           [dataset(port, ["a"])]))  # fmt: skip
    # The Dagster instance says both marts materialized in run dr-1; lineage logged only one.
    last = {"sales/order_lines": "dr-1", "sales/daily_revenue": "dr-1"}
    monkeypatch.setattr(completeness, "last_run_ids", lambda _paths, _graph: last)
    finding = only(mesh.govern(domain="sales"), "lineage-complete")
    assert finding.file == "domains/sales/dbt/models/marts/daily_revenue.sql"
    assert finding.product == "daily_revenue"
    assert finding.message == "no lineage event for Dagster run dr-1"


def test_spec_asset_graph_finds_cross_domain_reads(mesh: MeshCopy):
    from mesh_platform.governance.context import MeshContext

    graph = lineage_complete.spec_asset_graph(MeshContext.load(mesh.paths))
    edges = {(e.producer, e.consumer) for e in graph.cross_edges}
    assert ("catalog/products", "sales/stg_catalog__products") in edges
    assert ("customers/customer_profiles",
            "personalization/stg_customers__customer_profiles") in edges  # fmt: skip
    assert all(e.producer.split("/")[0] != e.consumer.split("/")[0] for e in graph.cross_edges)


def _champion(mesh: MeshCopy, metrics: dict[str, float]) -> None:
    import lightgbm as lgb
    import numpy as np
    from mesh_platform.ml import promotion, registry

    x = np.random.default_rng(0).normal(size=(100, 2))
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1},
                        lgb.Dataset(x, (x[:, 0] > 0).astype(int)), num_boost_round=2)  # fmt: skip
    root = mesh.paths.registry
    registry.register(root, "churn_model", booster, {}, metrics, {}, {}, "c", None, "w", {})
    assert promotion.promote(root, "churn_model", 1, force=True).promoted


def test_champion_failing_its_gates_is_a_finding(mesh: MeshCopy):
    _champion(mesh, {"roc_auc": 0.55, "f1": 0.4})
    found = [f for f in failing(mesh.govern(), "model-gates") if f.product == "churn_model"]
    assert [(f.field, f.severity) for f in found] == [("model.gates", Severity.error)]
    assert "champion v1 fails its gates: gate roc_auc >= 0.65 failed: roc_auc = 0.55" in (
        found[0].message
    )


def test_champion_meeting_its_gates_passes(mesh: MeshCopy):
    _champion(mesh, {"roc_auc": 0.7, "f1": 0.4})
    assert [f for f in failing(mesh.govern(), "model-gates") if f.product == "churn_model"] == []
