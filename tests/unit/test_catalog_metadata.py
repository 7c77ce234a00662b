"""What a port asset shows in the Dagster UI, derived from its descriptor and contract."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy
from mesh_platform.catalog.column_lineage import model_column_lineage
from mesh_platform.catalog.metadata import (
    column_schema,
    highest_classification,
    port_attributes,
)
from mesh_platform.contracts.checks import load_port_contract
from mesh_platform.descriptors.loader import load_mesh

from tests.support import REPO


@pytest.fixture(scope="module")
def domains():
    found, errors = load_mesh(REPO / "domains")
    assert not errors
    return found


def contract(domain: str, port: str):
    found = load_port_contract(REPO / "contracts", domain, port, 1)
    assert found is not None
    return found


def test_column_schema_is_the_contract_with_descriptions_and_classification():
    profiles = contract("customers", "customer_profiles")
    schema = column_schema(profiles)
    assert [c.name for c in schema.columns] == [c.name for c in profiles.columns]
    for col, prop in zip(schema.columns, profiles.columns, strict=True):
        assert col.description == prop.description and col.description
        assert col.tags == {"classification": prop.classification}
        assert col.constraints.nullable == (not prop.required)
    key = next(c for c in schema.columns if c.name == "customer_id")
    assert key.constraints.unique and "primary key" in (key.constraints.other or [])


def test_highest_classification_follows_the_restriction_order():
    assert highest_classification(contract("customers", "customer_profiles")) == "confidential"
    assert highest_classification(contract("catalog", "products")) in ("public", "internal")


def test_port_attributes_carry_tags_contract_freshness_and_code(domains, monkeypatch):
    monkeypatch.delenv("MESH_GIT_URL", raising=False)
    web = domains["web"]
    product = web.products["product_interactions"]
    port = product.output_ports[0]
    found = contract("web", "product_interactions")
    attrs = port_attributes(web, product, port, found)
    assert attrs.tags["mesh/port"] == "public" and attrs.tags["mesh/tier"] == product.tier
    assert attrs.tags["mesh/classification"] == highest_classification(found)
    assert all(attrs.tags[t] == "" for t in product.tags)  # product tags are labels
    assert attrs.metadata["mesh/contract_id"].value == found.id
    assert attrs.metadata["mesh/contract_version"].value == found.version
    assert attrs.metadata["mesh/contract"].value == str(found.path.resolve())
    assert "mesh/contract_url" not in attrs.metadata
    # An SLA on an element (event_date): the platform's freshness check judges it, not a policy
    # that knows only materialisation times.
    assert attrs.freshness_policy is None
    assert attrs.metadata["mesh/freshness_hours"].value == 24
    assert attrs.metadata["mesh/freshness_basis"].value == "element event_date"
    refs = {r.label: r.file_path for r in attrs.metadata["dagster/code_references"].code_references}
    assert refs["data contract (ODCS)"] == str(found.path.resolve())
    assert refs["product descriptor"].endswith("domains/web/products/product_interactions.yaml")
    assert {"parquet", "pandera"} <= attrs.kinds


def test_a_port_judged_by_its_last_publish_gets_the_time_window_policy(domains):
    catalog = domains["catalog"]
    product = catalog.products["products"]
    found = contract("catalog", "products")
    attrs = port_attributes(catalog, product, product.output_ports[0], found)
    assert isinstance(attrs.freshness_policy, TimeWindowFreshnessPolicy)
    assert attrs.freshness_policy.fail_window.to_timedelta() == timedelta(hours=24)  # the SLA
    assert attrs.metadata["mesh/freshness_basis"].value == "last publish"


def test_contract_links_to_the_hosted_file_when_the_repo_url_is_set(domains, monkeypatch):
    monkeypatch.setenv("MESH_GIT_URL", "https://git.example/retail/mesh/")
    sales = domains["sales"]
    product = sales.products["order_lines"]
    attrs = port_attributes(
        sales, product, product.output_ports[0], contract("sales", "order_lines")
    )
    url = attrs.metadata["mesh/contract_url"].value
    assert url == "https://git.example/retail/mesh/blob/main/contracts/sales/order_lines.odcs.yaml"


def test_an_uncontracted_private_port_gets_the_product_slo_and_no_schema(domains):
    sales = domains["sales"]
    product = sales.products["order_lines"]
    product = product.model_copy(
        update={"slos": product.slos.model_copy(update={"freshness_hours": 12})}
    )
    private = product.output_ports[0].model_copy(update={"visibility": "private"})
    attrs = port_attributes(sales, product, private, None)
    assert attrs.tags["mesh/port"] == "private" and "mesh/classification" not in attrs.tags
    assert "dagster/column_schema" not in attrs.metadata
    hours = product.slos.freshness_hours
    assert isinstance(attrs.freshness_policy, TimeWindowFreshnessPolicy)
    assert attrs.freshness_policy.fail_window.to_timedelta() == timedelta(hours=hours)


def test_column_lineage_traces_through_ctes_to_upstream_assets():
    schema = {"db": {"main": {"orders": {"id": "BIGINT", "price": "DOUBLE", "qty": "INT"}}}}
    keys = {("db", "main", "orders"): dg.AssetKey(["sales", "orders"])}
    sql = """with o as (select id, price * qty as revenue from db.main.orders)
             select id, revenue, 1 as one from o"""
    lineage = model_column_lineage(sql, ["id", "revenue", "one"], schema, keys)
    assert lineage is not None
    deps = {c: {(d.asset_key.path[-1], d.column_name) for d in v}
            for c, v in lineage.deps_by_column.items()}  # fmt: skip
    assert deps == {"id": {("orders", "id")}, "revenue": {("orders", "price"), ("orders", "qty")}}
