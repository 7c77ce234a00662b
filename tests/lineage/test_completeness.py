"""Lineage completeness: each asset's last Dagster run logged, each cross-domain edge seen."""

from __future__ import annotations

import pytest
from mesh_platform.lineage.completeness import AssetGraph, CrossEdge, check
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.store import open_store
from mesh_platform.orchestration.asset_graph import mesh_asset_graph
from mesh_platform.settings import mesh_paths

from tests.lineage.conftest import asset_run

GRAPH = AssetGraph(
    assets={
        "customers": ["customers/raw_crm_customers", "customers/customer_profiles"],
        "personalization": [
            "personalization/stg_customers__customer_profiles",
            "personalization/stg_web__product_interactions",
            "personalization/customer_features",
        ],
    },  # fmt: skip
    cross_edges=[
        CrossEdge(
            "customers/customer_profiles", "personalization/stg_customers__customer_profiles"
        ),  # fmt: skip
        CrossEdge("web/product_interactions", "personalization/stg_web__product_interactions"),
    ],
)


def test_complete_lineage_has_no_gaps(paths, mesh):
    last = {"customers/raw_crm_customers": "dr-c1", "customers/customer_profiles": "dr-c1",
            "personalization/stg_customers__customer_profiles": "dr-p1"}  # fmt: skip
    with open_store(paths.lineage) as store:
        report = check(paths, store, GRAPH, last)
    assert report.ok, report
    assert (report.checked_assets, report.checked_edges) == (3, 1)


def test_gaps_are_reported(paths, mesh):
    # customer_profiles' last run left no events; features' run only a START; web's edge is absent.
    start = asset_run("personalization", "customer_features", "dr-p2", [], [])[:1]
    append_events(paths.lineage, start)
    last = {"customers/customer_profiles": "dr-c2",
            "personalization/customer_features": "dr-p2",
            "personalization/stg_web__product_interactions": "dr-p2"}  # fmt: skip
    with open_store(paths.lineage) as store:
        report = check(paths, store, GRAPH, last)
    assert not report.ok
    gaps = {g.asset: g.reason for g in report.missing_runs}
    assert gaps["customers/customer_profiles"] == "no lineage event for Dagster run dr-c2"
    assert gaps["personalization/customer_features"].startswith("a START but no COMPLETE/FAIL")
    assert "personalization/stg_web__product_interactions" in gaps
    [edge] = report.missing_edges
    assert CrossEdge(edge.producer, edge.consumer) == GRAPH.cross_edges[1]
    assert edge.source.endswith("/lake/web/product_interactions/v1")
    assert edge.target.endswith(":personalization.main.stg_web__product_interactions")


@pytest.mark.slow
def test_the_demo_mesh_asset_graph_has_its_cross_domain_edges(demo_mesh, monkeypatch):
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(demo_mesh.root))  # dbt parses the copy
    graph = mesh_asset_graph(mesh_paths())
    assert (
        CrossEdge("customers/customer_profiles", "personalization/stg_customers__customer_profiles")
        in graph.cross_edges
    )
    assert "sales/order_lines" in graph.assets["sales"]
