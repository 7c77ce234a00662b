"""End to end: `mesh up` builds and publishes the mesh; `mesh ui` serves it over GraphQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml
from mesh_platform.ports import PortRef, snapshot_files
from pyiceberg.catalog.sql import SqlCatalog

from tests.integration.conftest import mesh
from tests.openlineage_spec import require_spec
from tests.support import (
    REPO,
    free_port,
    graphql,
    pid_alive,
    port_files,
    process_tree,
    start_mesh,
    stop,
    wait_for_locations,
)

pytestmark = pytest.mark.slow

PORTS = {
    ("customers", "customer_profiles"), ("catalog", "products"), ("catalog", "promotions"),
    ("sales", "order_lines"), ("sales", "daily_revenue"), ("web", "product_interactions"),
    ("personalization", "customer_features"), ("personalization", "churn_scores"),
    ("personalization", "recommendations"), ("sales", "units_forecast"),
}  # fmt: skip
LOCATIONS = {"customers", "catalog", "sales", "web", "personalization"}
WORKSPACE = LOCATIONS | {"mesh_platform"}  # the domains plus the platform's own location


@pytest.fixture(scope="module")
def home(built_home) -> Path:
    return built_home  # the session's mesh (tests/integration/conftest.py), built once


@pytest.fixture(scope="module")
def first_up(built_mesh):
    return built_mesh


def ports_json(home: Path) -> dict[tuple[str, str], dict]:
    proc = mesh(home, "ports", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {(p["domain"], p["product"]): p for p in json.loads(proc.stdout)["ports"]}


def test_mesh_up_publishes_every_port(first_up, home):
    for domain in LOCATIONS:
        assert domain in first_up.stdout
    listed = ports_json(home)
    assert set(listed) == PORTS
    for port in listed.values():
        assert {"domain", "product", "version", "table", "path", "rows", "published_at",
                "snapshot_id"} <= set(port)  # fmt: skip
        assert port["version"] == 1 and port["rows"] > 0
        assert port["table"] == f"{port['domain']}.{port['product']}_v1"
        assert Path(port["path"]).is_relative_to(home / "lake" / port["domain"])
        files = port_files(home, f"{port['domain']}/{port['product']}")
        assert all(Path(f).is_relative_to(Path(port["path"]) / "data") for f in files)
        rows = duckdb.sql(f"select count(*) from read_parquet({files})")
        assert rows.fetchall()[0][0] == port["rows"]


def test_features_are_computed_from_the_other_domains_ports(first_up, home):
    con = duckdb.connect()

    def port(domain, product):
        return f"read_parquet({port_files(home, f'{domain}/{product}')})"

    def one(sql: str):
        return con.sql(sql).fetchall()[0]

    features = one(
        f"select count(*), sum(orders_total) from {port('personalization', 'customer_features')}"
    )
    profiles = one(f"select count(*) from {port('customers', 'customer_profiles')}")[0]
    lines = port("sales", "order_lines")
    orders = one(f"select count(distinct order_id) from {lines} where status <> 'cancelled'")[0]
    assert features[0] == profiles  # one feature row per published profile
    assert features[1] == orders  # every purchased order in the sales port is counted once


def test_consumer_never_opens_another_domains_warehouse(first_up, home):
    con = duckdb.connect(str(home / "warehouse" / "personalization.duckdb"), read_only=True)
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    con.close()
    assert "customer_features" in tables and "order_lines" not in tables
    assert not (REPO / "domains/personalization/dbt/target").exists()  # dbt writes under home
    run_dirs = sorted((home / "dbt/personalization/target").glob("run-*"))
    compiled = "\n".join(p.read_text() for p in run_dirs[-1].rglob("run/**/*.sql"))
    assert 'mesh_ports."sales__order_lines_v1"' in compiled  # the view over the pinned snapshot
    assert ".duckdb" not in compiled


def test_second_run_publishes_new_snapshots_and_breaks_nothing(first_up, home):
    before = ports_json(home)
    proc = mesh(home, "up")
    assert proc.returncode == 0, proc.stdout[-4000:]
    after = ports_json(home)
    for key, port in after.items():
        assert port["snapshot_id"] != before[key]["snapshot_id"]  # a new snapshot ...
        assert port["rows"] == before[key]["rows"]  # ... of the same data
        old = snapshot_files(home, PortRef(*key), before[key]["snapshot_id"])[1]
        with duckdb.connect() as con:  # the previous one is still readable (time travel)
            count = con.execute("SELECT count(*) FROM read_parquet(?)", [old]).fetchall()[0][0]
        assert count == before[key]["rows"]


def test_any_engine_reads_every_port_with_pyiceberg_alone(first_up, home):
    """No DuckDB, no platform code: the catalog `mesh ports` names, its tables and snapshots."""
    proc = mesh(home, "ports", "--format", "json")
    listing = json.loads(proc.stdout)
    config = listing["catalog"]
    catalog = SqlCatalog(config["name"], uri=config["uri"], warehouse=config["warehouse"])
    for port in listing["ports"]:
        table = catalog.load_table(port["table"])
        current = table.current_snapshot()
        assert current is not None and str(current.snapshot_id) == port["snapshot_id"]
        assert table.scan().to_arrow().num_rows == port["rows"]
        contract = REPO / "contracts" / port["domain"] / f"{port['product']}.odcs.yaml"
        if contract.exists():  # the table's schema is the contract's
            declared = yaml.safe_load(contract.read_text())["schema"][0]["properties"]
            fields = {f.name: f for f in table.schema().fields}
            assert [c["name"] for c in declared] == list(fields)
            assert all(fields[c["name"]].required == bool(c.get("required")) for c in declared)
        # time travel: the previous publish (an overwrite is a delete, then the append)
        previous = [s for s in table.snapshots() if s.summary and s.summary.operation.value
                    == "append" and s.snapshot_id != current.snapshot_id]  # fmt: skip
        if previous:
            rows = int(previous[-1].summary["mesh.rows"])  # type: ignore[index]
            assert table.scan(snapshot_id=previous[-1].snapshot_id).to_arrow().num_rows == rows


EDGE_QUERY = """{ assetNodeOrError(assetKey: {path: ["sales", "order_lines"]}) {
  ... on AssetNode { dependedByKeys { path } } } }"""
RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId status } } } }"


def test_ui_serves_locations_edges_and_run_history(first_up, home):
    port = free_port()
    proc = start_mesh(home, "ui", "--port", str(port), stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        entries = wait_for_locations(port, proc)
        assert {e["name"] for e in entries} == WORKSPACE
        assert all(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)
        edge = graphql(port, EDGE_QUERY)["assetNodeOrError"]["dependedByKeys"]
        assert ["personalization", "stg_sales__order_lines"] in [k["path"] for k in edge]
        runs = graphql(port, RUNS_QUERY)["runsOrError"]["results"]
        assert len([r for r in runs if r["status"] == "SUCCESS"]) >= len(LOCATIONS)
        spawned = set(process_tree(proc.pid)) - {proc.pid}
        assert len(spawned) >= 2 + len(WORKSPACE)  # webserver, daemon and code servers
    finally:
        code = stop(proc)
    assert code == 0
    assert not [pid for pid in spawned if pid_alive(pid)]  # nothing outlives `mesh ui`


def test_every_lineage_event_of_the_demo_run_validates_against_the_spec(
    first_up, home, monkeypatch
):
    from mesh_platform.lineage.validation import validate_event

    lines = (home / "lineage" / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert events
    completed = {e["job"]["name"] for e in events if e["eventType"] == "COMPLETE"}
    for job in ("customers.raw_crm_customers", "sales.order_lines", "web.product_interactions",
                "personalization.customer_features"):  # fmt: skip
        assert job in completed
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in events}
    assert len(parents) >= len(LOCATIONS)  # every event hangs off a Dagster run
    require_spec(monkeypatch, "the demo run's events against the OpenLineage spec")
    invalid = {e["job"]["name"]: errors for e in events if (errors := validate_event(e))}
    assert invalid == {}


def _upstream(home: Path, column: str) -> set[tuple[str, str]]:
    proc = mesh(home, "lineage", "upstream", "personalization/customer_features",
                "--column", column, "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {(n["dataset"], n["column"]) for n in json.loads(proc.stdout)["nodes"]}


def test_column_lineage_crosses_domains_back_to_landing_files(first_up, home):
    lake, landing = home / "lake", home / "landing"
    age = _upstream(home, "age")
    assert (f"file:{lake}/customers/customer_profiles/v1", "birth_year") in age
    assert (f"file:{landing}/customers/crm_customers*.csv", "birth_date") in age
    revenue = _upstream(home, "revenue_365d")
    assert (f"file:{lake}/sales/order_lines/v1", "line_revenue") in revenue
    assert (f"file:{landing}/sales/order_lines_*.parquet", "unit_price") in revenue
    # ... and on into the features of the churn model trained on the port (ML column lineage).
    proc = mesh(home, "lineage", "downstream", "sales/order_lines", "--column", "line_revenue",
                "--format", "json")  # fmt: skip
    reached = {(n["dataset"].rsplit("/", 1)[0], n["column"])
               for n in json.loads(proc.stdout)["nodes"]}  # fmt: skip
    # The model is its MLflow version: namespace the tracking store, name models:/<name>/<n>.
    assert any(d.endswith(":models:/churn_model") and c == "revenue_365d" for d, c in reached)


def test_lineage_log_verifies_and_covers_every_asset(first_up, home):
    verified = mesh(home, "lineage", "verify")
    assert verified.returncode == 0 and "hash chain intact" in verified.stdout
    checked = mesh(home, "lineage", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    pii = mesh(home, "lineage", "pii")
    assert pii.returncode == 0 and "email_sha256" in pii.stdout


def test_models_are_trained_gated_and_score_the_prediction_ports(first_up, home):
    proc = mesh(home, "models", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    models = {m["name"]: m for m in json.loads(proc.stdout)}
    assert set(models) == {"churn_model", "recommender", "units_forecast_model"}
    for model in models.values():
        assert model["champion"] is not None  # the first version passed its gates
    con = duckdb.connect()
    recs = con.sql(
        "SELECT count(*), count(DISTINCT customer_id), max(rank) FROM read_parquet("
        f"{port_files(home, 'personalization/recommendations')})"
    ).fetchall()[0]
    assert recs[0] > 0 and recs[2] <= 10  # top 10 per customer
    scores = con.sql(
        "SELECT min(churn_probability), max(churn_probability) FROM read_parquet("
        f"{port_files(home, 'personalization/churn_scores')})"
    ).fetchall()[0]
    assert 0 <= scores[0] <= scores[1] <= 1


# Each demo model against its naive baseline on the same evaluation window: (metric, margin);
# a positive margin means higher is better, a negative one that the model must be that much lower.
MARGINS = {
    "churn_model": ("roc_auc", 0.15),  # majority class: 0.5
    "recommender": ("ndcg@10", 0.03),  # popularity ordering
    "units_forecast_model": ("mae", -0.05),  # same day last week; at least 5% lower
}


def test_demo_models_beat_their_naive_baselines_by_a_margin(first_up, home):
    from mesh_platform.ml import registry

    for name, (metric, margin) in MARGINS.items():
        champion = registry.champion(home / "mlflow", name)
        assert champion is not None, name
        ours, theirs = champion.metrics[metric], champion.meta["baseline_metrics"][metric]
        if margin > 0:
            assert ours >= theirs + margin, (name, metric, ours, theirs)
        else:
            assert ours <= theirs * (1 + margin), (name, metric, ours, theirs)


def test_the_build_leaves_nothing_in_the_temporary_folder(built_mesh, built_home):
    # training used to leave a mesh-plots-* folder per run in the system's temporary folder
    assert list((built_home.parent / "tmp").iterdir()) == []  # MLflow's staging folders too
    assert list((built_home / "mlflow").rglob("*_feature_importance.png"))  # in the MLflow runs
