"""Access policy and the port reader: private ports, undeclared ports and warehouses are refused."""

from __future__ import annotations

import pytest
from mesh_platform.access import rules as access
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.lineage.log import append_events

from tests.governance.conftest import PRIVATE_SOURCE, failing, only
from tests.support import REPO


def _make_master_a_private_port(mesh):
    mesh.edit(
        "domains/customers/products/customer_profiles.yaml",
        lambda d: d["output_ports"].append(
            {"name": "customer_master", "model": "customer_master", "visibility": "private"}
        ),
    )


def test_demo_mesh_passes_access(mesh):
    assert failing(mesh.govern(), "access") == []


def test_declared_input_of_a_private_port_is_a_finding(mesh):
    _make_master_a_private_port(mesh)
    mesh.edit(
        "domains/personalization/products/customer_features.yaml",
        lambda d: d["input_ports"].append(
            {"name": "master", "kind": "port", "product": "customers/customer_master"}
        ),
    )
    found = only(mesh.govern("personalization"), "access")
    assert found.product == "customer_features" and found.field == "input_ports[4].product"
    assert "private to customers" in found.message


def test_dbt_source_reading_a_private_port_is_a_finding(mesh):
    _make_master_a_private_port(mesh)
    mesh.write("domains/personalization/dbt/models/staging/_private.yml", PRIVATE_SOURCE)
    found = only(mesh.govern("personalization"), "access")
    assert found.file.endswith("_private.yml")
    assert "customers/customer_master v1" in found.message and "private" in found.message


def test_dbt_source_reading_an_undeclared_port_is_a_finding(mesh):
    mesh.write("domains/personalization/dbt/models/staging/_private.yml", PRIVATE_SOURCE)
    found = only(mesh.govern("personalization"), "access")
    assert "undeclared port" in found.message


def test_model_reading_another_warehouse_is_a_finding(mesh):
    mesh.write(
        "domains/sales/dbt/models/staging/stg_peek.sql",
        "select * from read_parquet('x.parquet') -- plus\n"
        "select 1 from customers.main.customer_master -- via customers.duckdb\n",
    )
    found = only(mesh.govern("sales"), "access")
    assert "warehouse customers.duckdb" in found.message and found.field == "model stg_peek"


def test_port_reader_refuses_with_consumer_port_and_reason(mesh):
    _make_master_a_private_port(mesh)
    consumer = load_domain(mesh.root / "domains" / "personalization")
    manifest = {
        "sources": {
            "s": {
                "source_name": "customers_private",
                "name": "customer_master",
                "original_file_path": "models/staging/_private.yml",
                "meta": {"mesh_port": "customers/customer_master"},
            }
        }
    }
    with pytest.raises(access.AccessDenied) as err:
        access.enforce(consumer, manifest)
    text = str(err.value)
    assert "personalization: source customers_private.customer_master" in text
    assert "port customers/customer_master v1" in text and "private to customers" in text


def test_allowed_directories_are_the_declared_public_ports(mesh):
    consumer = load_domain(mesh.root / "domains" / "sales")
    dirs = access.allowed_directories(consumer, mesh.home)
    assert {d.removeprefix(f"{mesh.home}/") for d in dirs} == {
        "sales", "catalog/products/v1", "sales/order_lines/v1"
    }  # fmt: skip
    on_s3 = access.allowed_directories(consumer, "s3://bucket/lake/")
    assert on_s3 == ["s3://bucket/lake/sales", "s3://bucket/lake/catalog/products/v1",
                     "s3://bucket/lake/sales/order_lines/v1"]  # fmt: skip


def _event(home, job: str, namespace: str, name: str) -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:00:00Z",
        "run": {"runId": "01890000-0000-7000-8000-000000000001"},
        "job": {"namespace": "mesh.personalization", "name": job},
        "inputs": [{"namespace": namespace, "name": name}],
        "outputs": [{"namespace": "file", "name": f"{home}/lake/personalization/x/v1"}],
        "producer": "test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
    }


def test_lineage_read_of_another_warehouse_is_a_finding(mesh):
    wh = f"duckdb://{mesh.home}/warehouse/customers.duckdb"
    event = _event(mesh.home, "personalization.peek", wh, "customers.main.customer_master")
    append_events(mesh.home / "lineage", [event])
    found = only(mesh.govern("personalization"), "access")
    assert "lineage shows a read of warehouse customers.duckdb" in found.message
    assert found.field == "job personalization.peek"


def test_ml_input_ports_are_checked_like_dbt_reads():
    from mesh_platform.descriptors.models import ProductSpec
    from mesh_platform.ml.sources import check_access

    def ml_product(reads: str) -> ProductSpec:
        return ProductSpec.model_validate(
            {
                "name": "forecast",
                "kind": "ml",
                "description": "A model.",
                "input_ports": [{"name": "x", "kind": "port", "product": reads}],
                "output_ports": [{"name": "forecast_scores", "producer": "ml"}],
                "model": {
                    "kind": "regressor",
                    "training_table": "t",
                    "entity": "k",
                    "label": "y",
                    "horizon_days": 7,
                    "gates": {"rmse": "<= 1"},
                    "primary_metric": "rmse",
                },
            }
        )

    sales = load_domain(REPO / "domains" / "sales")
    check_access(sales, ml_product("catalog/products"))  # a port sales declares it reads
    with pytest.raises(access.AccessDenied, match="not an input port of any sales product"):
        check_access(sales, ml_product("web/product_interactions"))
