"""Every code location loads with the keys, owners, tags and cross-domain deps of the mesh."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
import yaml
from mesh_platform.orchestration.component import load_domain_defs
from mesh_platform.orchestration.factory import build_domain_definitions

from tests.support import REPO

DOMAINS = ["customers", "catalog", "sales", "web", "personalization"]


@pytest.fixture(scope="module")
def definitions(tmp_path_factory):
    """Every domain's definitions, its dbt project rendered and parsed under a private home."""
    home = tmp_path_factory.mktemp("home") / "mesh"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MESH_HOME", str(home))
        env.setenv("DAGSTER_HOME", str(home / "dagster"))
        yield {name: build_domain_definitions(REPO / "domains" / name) for name in DOMAINS}


def test_a_domain_is_a_component_declared_in_defs_yaml(mesh_home):
    defs = load_domain_defs(REPO / "domains" / "web")
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["web", "product_interactions"]) in keys
    assert (mesh_home / "dbt" / "web" / "target" / "manifest.json").exists()


def test_workspace_names_each_domain_as_an_attribute_of_one_platform_module(monkeypatch):
    from mesh_platform.orchestration import domain_location

    monkeypatch.setenv("MESH_PROJECT_ROOT", str(REPO))
    with pytest.raises(AttributeError, match="no domain 'nope'"):
        domain_location.nope  # noqa: B018 - the lookup is the test
    workspace = yaml.safe_load((REPO / "dagster_project" / "workspace.yaml").read_text())
    entries = [e["python_module"] for e in workspace["load_from"]]
    domains = {e["attribute"] for e in entries if e["module_name"] == domain_location.__name__}
    assert domains == set(DOMAINS)
    assert all((REPO / "domains" / d / "defs.yaml").exists() for d in domains)


def _specs(defs: dg.Definitions) -> dict[dg.AssetKey, dg.AssetSpec]:
    graph = defs.resolve_asset_graph()
    return {key: graph.get(key).to_asset_spec() for key in graph.get_all_asset_keys()}


@pytest.mark.parametrize("name", DOMAINS)
def test_code_location_loads(definitions, name):
    dg.Definitions.validate_loadable(definitions[name])
    specs = _specs(definitions[name])
    own = [k for k in specs if k.path[0] == name]
    assert own, f"{name} defines no assets"
    assert all(specs[k].group_name == name for k in own)


@pytest.mark.parametrize(
    ("domain", "port"),
    [("customers", "customer_profiles"), ("catalog", "products"), ("sales", "order_lines"),
     ("sales", "daily_revenue"), ("web", "product_interactions"),
     ("personalization", "customer_features")],
)  # fmt: skip
def test_port_assets_carry_owner_tags_and_kinds(definitions, domain, port):
    spec = _specs(definitions[domain])[dg.AssetKey([domain, port])]
    assert f"team:{domain}" in spec.owners
    assert spec.tags["mesh/port"] == "public"
    assert spec.tags["mesh/domain"] == domain
    assert {"dbt", "duckdb", "parquet"} <= set(spec.kinds)
    assert spec.description and "output port" not in spec.description.lower()[:3]
    assert spec.metadata["mesh/port_location"].value == f"lake/{domain}/{port}/v1"
    assert spec.metadata["mesh/port_table"].value == f"{domain}.{port}_v1"


def test_consumer_depends_on_producer_keys_across_locations(definitions):
    specs = _specs(definitions["personalization"])
    deps = {
        d.asset_key for d in specs[dg.AssetKey(["personalization", "stg_sales__order_lines"])].deps
    }
    assert deps == {dg.AssetKey(["sales", "order_lines"])}
    # The producer's asset is not redefined by the consumer: it stays external to the location.
    own_keys = {k for k in specs if k.path[0] == "personalization"}
    assert dg.AssetKey(["sales", "order_lines"]) not in own_keys


def test_sales_reads_catalog_port_not_its_warehouse(definitions):
    specs = _specs(definitions["sales"])
    stg = specs[dg.AssetKey(["sales", "stg_catalog__products"])]
    assert {d.asset_key for d in stg.deps} == {dg.AssetKey(["catalog", "products"])}


def test_landing_files_are_ingested_before_dbt(definitions):
    specs = _specs(definitions["web"])
    landing = specs[dg.AssetKey(["web", "landing_tracking_events"])]
    assert "json" in landing.kinds
    assert landing.metadata["mesh/landing_location"].value == "landing/web/events_*.jsonl"
    raw = specs[dg.AssetKey(["web", "raw_tracking_events"])]
    assert {d.asset_key for d in raw.deps} == {landing.key}
    stg = specs[dg.AssetKey(["web", "stg_tracking__events"])]
    assert {d.asset_key for d in stg.deps} == {raw.key}


def test_source_aligned_domains_have_a_landing_sensor(definitions):
    for name in ("customers", "catalog", "sales", "web"):
        sensor = definitions[name].resolve_sensor_def(f"{name}_landing_sensor")
        assert sensor.job_name == f"{name}_ingest"
    sensors = {s.name for s in definitions["personalization"].sensors or []}
    # consumer-aligned: no landing zone; it reacts to its producers' publishes instead
    assert sensors == {"personalization_drift_retrain", "personalization_on_port_publish"}


def test_consumers_rebuild_on_the_ports_they_read_without_retraining(definitions):
    defs = definitions["personalization"]
    sensor = defs.resolve_sensor_def("personalization_on_port_publish")
    assert sensor.job_name == "personalization_rebuild"
    selected = defs.resolve_job_def("personalization_rebuild").asset_layer.selected_asset_keys
    assert dg.AssetKey(["personalization", "churn_scores"]) in selected  # re-scored
    assert dg.AssetKey(["personalization", "churn_model"]) not in selected  # trains on schedule
    ingest = definitions["sales"].resolve_job_def("sales_ingest").asset_layer.selected_asset_keys
    assert dg.AssetKey(["sales", "units_forecast"]) in ingest
    assert dg.AssetKey(["sales", "units_forecast_model"]) not in ingest
    # A domain reading no other domain's port has nothing to react to.
    assert "customers_on_port_publish" not in {
        s.name for s in definitions["customers"].sensors or []
    }


def test_models_retrain_on_the_schedule_their_descriptor_declares(definitions):
    schedule = definitions["personalization"].resolve_schedule_def(
        "personalization_churn_model_retrain_schedule"
    )
    assert schedule.cron_schedule == "0 3 * * 1" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_ml_products_get_training_and_scoring_assets(definitions):
    specs = _specs(definitions["personalization"])
    train = specs[dg.AssetKey(["personalization", "churn_model"])]
    scores = specs[dg.AssetKey(["personalization", "churn_scores"])]
    assert "lightgbm" in train.kinds and train.tags["mesh/cpu"] == "heavy"
    # The model trains on its domain's own dbt table and scores its own scoring table.
    assert {d.asset_key for d in train.deps} == {dg.AssetKey(["personalization", "churn_training"])}
    assert {d.asset_key for d in scores.deps} >= {
        train.key,
        dg.AssetKey(["personalization", "churn_scoring"]),
    }
    assert scores.tags["mesh/port"] == "public"
    graph = definitions["personalization"].resolve_asset_graph()
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == scores.key}
    assert checks == {"contract", "feature_drift", "governance"}


def test_code_references_point_at_the_teams_files_not_the_prepared_copy(definitions):
    spec = _specs(definitions["sales"])[dg.AssetKey(["sales", "order_lines"])]
    paths = [r.file_path for r in spec.metadata["dagster/code_references"].code_references]
    assert str(REPO / "domains/sales/dbt/models/marts/order_lines.sql") in paths


@pytest.mark.parametrize("name", DOMAINS)
def test_every_run_of_a_domain_is_tagged_for_the_one_run_per_domain_queue(definitions, name):
    """Two runs of one domain side by side would both open its DuckDB warehouse: one fails."""
    instance = yaml.safe_load((REPO / "dagster_project" / "dagster.yaml").read_text())
    limits = instance["concurrency"]["runs"]["tag_concurrency_limits"]
    per_domain = {"key": "mesh/domain", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert per_domain in limits
    jobs = list(definitions[name].jobs or [])
    schedules = list(definitions[name].schedules or [])
    assert jobs, f"{name} has no job"
    assert all(j.tags.get("mesh/domain") == name for j in jobs), [j.name for j in jobs]
    assert all(s.tags.get("mesh/domain") == name for s in schedules)


# The libraries a model's steps need and its code location must not load (bench_location_load).
ML_LIBRARIES = ("lightgbm", "optuna", "sklearn", "mlflow", "matplotlib", "scipy")
_LOAD_LOCATIONS = """
import json, sys
from mesh_platform.orchestration import domain_location
keys = []
for name in sys.argv[1].split(","):
    defs = getattr(domain_location, name)()  # what a code server resolves the attribute to
    keys += ["/".join(k.path) for k in defs.resolve_asset_graph().get_all_asset_keys()]
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:]))
print(json.dumps({"keys": keys, "loaded": loaded}))
"""


def test_the_locations_of_model_domains_load_without_the_ml_libraries(mesh_home):
    from mesh_platform.descriptors.loader import load_mesh

    domains, _ = load_mesh(REPO / "domains")
    products = [(d.name, p) for d in domains.values() for p in d.products.values()]
    models = {f"{domain}/{p.name}" for domain, p in products if p.model}
    owners = sorted({m.split("/")[0] for m in models})
    assert owners, "the demo mesh declares models"
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_LOCATIONS, ",".join(owners), *ML_LIBRARIES],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "MESH_PROJECT_ROOT": str(REPO)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert models <= set(found["keys"])  # the training assets are defined...
    assert found["loaded"] == []  # ...without importing what only their steps run
