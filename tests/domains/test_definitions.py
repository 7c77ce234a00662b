"""Every code location loads with the keys, owners, tags and cross-domain deps of the mesh."""

from __future__ import annotations

import dagster as dg
import pytest
from mesh_platform.dbt.project import prepare_manifest
from mesh_platform.orchestration.factory import build_domain_definitions

from tests.support import MeshCopy

DOMAINS = ["customers", "catalog", "sales", "web", "personalization"]


@pytest.fixture(scope="module")
def definitions(demo_mesh: MeshCopy) -> dict[str, dg.Definitions]:
    domains = demo_mesh.root / "domains"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESH_PROJECT_ROOT", str(demo_mesh.root))
        for name in DOMAINS:
            prepare_manifest(domains / name / "dbt")
        return {name: build_domain_definitions(domains / name) for name in DOMAINS}


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
    assert spec.metadata["mesh/port_location"].value == f"lake/{domain}/{port}/v1/current"


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
    assert sensors == {"personalization_drift_retrain"}  # consumer-aligned: no landing zone


def test_ml_products_get_training_and_scoring_assets(definitions):
    specs = _specs(definitions["personalization"])
    train = specs[dg.AssetKey(["personalization", "churn_model"])]
    scores = specs[dg.AssetKey(["personalization", "churn_scores"])]
    assert "lightgbm" in train.kinds and train.tags["mesh/cpu"] == "heavy"
    assert dg.AssetKey(["sales", "order_lines"]) in {d.asset_key for d in train.deps}
    assert train.key in {d.asset_key for d in scores.deps}
    assert scores.tags["mesh/port"] == "public"
    graph = definitions["personalization"].resolve_asset_graph()
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == scores.key}
    assert checks == {"contract", "feature_drift", "governance"}
