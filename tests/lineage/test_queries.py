"""Upstream/downstream at dataset and column level, depth, cycles, runs, rendering."""

from __future__ import annotations

import pytest
from mesh_platform.lineage import graph as render
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import DatasetName, port_dataset
from mesh_platform.lineage.queries import (
    column_lineage,
    downstream,
    lineage,
    node_id,
    resolve,
    runs,
    upstream,
)
from mesh_platform.lineage.store import open_store

from tests.lineage.conftest import asset_run, dataset, same


@pytest.fixture
def store(paths, mesh):
    with open_store(paths.lineage) as opened:
        yield opened


def ids(graph) -> set[str]:
    return {n.id for n in graph.nodes}


def test_dataset_upstream_crosses_ports_to_the_landing_files(store, mesh):
    d = {k: str(v) for k, v in mesh.ds.items()}
    graph = upstream(store, mesh.ds["p.port"])
    for key in ("p.mart", "p.stg_c", "p.stg_s", "customers.port", "sales.port",
                "customers.raw", "sales.raw", "customers.landing", "sales.landing"):  # fmt: skip
        assert d[key] in ids(graph), key
    depth = {n.id: n.depth for n in graph.nodes}
    assert (depth[d["p.mart"]], depth[d["customers.port"]], depth[d["sales.landing"]]) == (1, 3, 7)
    edge = next(e for e in graph.edges if e.source == d["sales.port"])
    assert edge.target == d["p.stg_s"] and edge.job == "personalization.stg_sales__order_lines"
    # The port is published from its table, not straight from staging.
    pairs = {(e.source, e.target) for e in graph.edges}
    assert (d["customers.stg"], d["customers.port"]) not in pairs


def test_depth_limits_the_walk(store, mesh):
    d = {k: str(v) for k, v in mesh.ds.items()}
    assert ids(upstream(store, mesh.ds["p.port"], depth=1)) == {d["p.port"], d["p.mart"]}
    three = ids(upstream(store, mesh.ds["p.port"], depth=3))
    assert d["sales.port"] in three and d["sales.mart"] not in three


def test_a_feature_column_traces_back_to_both_domains_landing_columns(store, mesh):
    d = mesh.ds
    graph = upstream(store, d["p.port"], column="customer_id")
    for key in ("customers.port", "sales.port", "customers.raw", "customers.landing",
                "sales.landing"):  # fmt: skip
        assert node_id(str(d[key]), "customer_id") in ids(graph), key
    email = upstream(store, d["p.port"], column="email_sha256")
    assert node_id(str(d["customers.port"]), "email_sha256") in ids(email)
    assert node_id(str(d["customers.landing"]), "email") in ids(email)
    assert not any(n.column == "first_name" for n in email.nodes)


def test_column_downstream_and_depth(store, mesh):
    d = mesh.ds
    graph = downstream(store, d["customers.landing"], column="email")
    assert node_id(str(d["p.port"]), "email_sha256") in ids(graph)
    near = downstream(store, d["customers.landing"], column="email", depth=2)
    assert ids(near) == {
        node_id(str(d[k]), "email") for k in ("customers.landing", "customers.raw", "customers.stg")
    }


def test_cycles_terminate(paths, store):
    a, b = DatasetName("file", "/x/a"), DatasetName("file", "/x/b")
    events = asset_run("loop", "b", "r", [dataset(a, ["v"])], [dataset(b, ["v"], same(a, ["v"]))])
    events += asset_run("loop", "a", "r", [dataset(b, ["v"])], [dataset(a, ["v"], same(b, ["v"]))])
    append_events(paths.lineage, events)
    store.sync(paths.lineage)
    for depth in (None, 50):
        assert ids(upstream(store, a, depth=depth)) == {str(a), str(b)}
        assert len(downstream(store, a, column="v", depth=depth).edges) == 2
    both = lineage(store, a, direction="both")
    assert {n.depth for n in both.nodes} == {0, 1}


def test_runs_newest_first_with_parent_and_version(paths, store, mesh):
    port = mesh.ds["sales.port"]
    rerun = asset_run("sales", "order_lines", "dr-s2", [dataset(mesh.ds["sales.mart"], ["amount"])],
                      [dataset(port, ["amount"], version="snap-2")])  # fmt: skip
    append_events(paths.lineage, rerun)
    store.sync(paths.lineage)
    found = runs(store, port)
    assert [(r["parent_run_id"], r["access"], r["dataset_version"]) for r in found] == [
        ("dr-s2", "write", "snap-2"),
        ("dr-p1", "read", None),
        ("dr-s1", "write", "snap-1"),
    ]
    assert found[0]["status"] == "COMPLETE" and found[0]["job"] == "sales.order_lines"


def test_column_lineage_one_hop(store, mesh):
    cols = column_lineage(store, mesh.ds["p.mart"])
    by_name = {c["column"]: c for c in cols}
    assert set(by_name) == {"customer_id", "monetary", "birth_year", "email_sha256"}
    assert {i["dataset"] for i in by_name["customer_id"]["inputs"]} == {
        str(mesh.ds["p.stg_c"]),
        str(mesh.ds["p.stg_s"]),
    }
    assert by_name["monetary"]["outputs"][0]["dataset"] == str(mesh.ds["p.port"])
    one = column_lineage(store, mesh.ds["p.mart"], "monetary")
    assert [c["column"] for c in one] == ["monetary"]


def test_resolve_aliases_and_bare_names(paths, store, mesh):
    port = str(port_dataset(paths, "sales", "order_lines"))
    assert resolve(store, paths, "sales/order_lines") == port
    assert resolve(store, paths, "personalization.main.customer_features") == str(mesh.ds["p.mart"])
    assert resolve(store, paths, str(mesh.ds["p.stg_c"])) == str(mesh.ds["p.stg_c"])


def test_dot_and_mermaid_show_nodes_and_edges(store, mesh):
    graph = upstream(store, mesh.ds["p.port"], depth=2)
    dot = render.render(graph, "dot")
    assert dot.startswith("digraph lineage {")
    for label in ("port personalization/customer_features/v1",
                  "personalization.main.customer_features",
                  "personalization.main.stg_sales__order_lines"):  # fmt: skip
        assert label in dot
    assert dot.count(" -> ") == len(graph.edges) == 3
    assert 'label="personalization.customer_features"' in dot
    mermaid = render.render(graph, "mermaid")
    assert mermaid.startswith("flowchart LR")
    assert mermaid.count(" -->|") == 3
    assert '[/"port personalization/customer_features/v1"/]' in mermaid
    column = render.render(upstream(store, mesh.ds["p.port"], column="monetary", depth=1), "dot")
    assert "personalization.main.customer_features\\nmonetary" in column


def test_png_without_graphviz_says_how_to_install_it(store, mesh, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda _: None)
    with pytest.raises(render.GraphvizMissing, match="apt-get install graphviz"):
        render.render(upstream(store, mesh.ds["p.port"]), "png")
