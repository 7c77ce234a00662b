"""A consumer reading what it may not is refused at run time by a real Dagster + dbt run."""

from __future__ import annotations

import dagster as dg
import pytest
from mesh_platform.orchestration.factory import build_domain_definitions

from tests.governance.conftest import PRIVATE_SOURCE

pytestmark = pytest.mark.slow

# Claims a declared public port but points at the producer's private warehouse.
WAREHOUSE_SOURCE = """version: 2
sources:
  - name: peek
    tables:
      - name: customer_master
        meta:
          mesh_port: sales/daily_revenue
          external_location: "(FROM customers_wh.main.customer_master) -- customers.duckdb"
"""
# A path built at run time: no static check can see it, DuckDB's sandbox refuses the read.
DYNAMIC_SQL = (
    """select * from read_parquet('{{ "lake/customers/customer_" ~ "master" }}/v1/x.parquet')"""
)


@pytest.fixture
def run(mesh, monkeypatch):
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(mesh.root))
    monkeypatch.setenv("MESH_HOME", str(mesh.home))
    monkeypatch.setenv("MESH_ML", "off")

    def materialize(domain: str, model: str) -> str:
        defs = build_domain_definitions(mesh.root / "domains" / domain)
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            asset_selection=[dg.AssetKey([domain, model])],
        )
        assert not result.success
        failures = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        return "\n".join(str(e.event_specific_data) for e in failures)

    return materialize


def test_reading_a_private_port_of_another_domain_is_refused(mesh, run):
    mesh.edit(
        "domains/customers/products/customer_profiles.yaml",
        lambda d: d["output_ports"].append(
            {"name": "customer_master", "model": "customer_master", "visibility": "private"}
        ),
    )
    mesh.write("domains/personalization/dbt/models/staging/_private.yml", PRIVATE_SOURCE)
    mesh.write(
        "domains/personalization/dbt/models/staging/stg_master.sql",
        "select * from {{ source('customers_private', 'customer_master') }}",
    )
    error = run("personalization", "stg_master")
    assert "access refused by the mesh platform's port reader" in error
    assert "personalization: source customers_private.customer_master" in error
    assert "port customers/customer_master v1: port is private to customers" in error
    assert not (mesh.home / "warehouse" / "personalization.duckdb").exists()  # dbt never ran


def test_reading_another_domains_warehouse_is_refused(mesh, run):
    mesh.write("domains/personalization/dbt/models/staging/_peek.yml", WAREHOUSE_SOURCE)
    mesh.write(
        "domains/personalization/dbt/models/staging/stg_peek.sql",
        "select * from {{ source('peek', 'customer_master') }}",
    )
    error = run("personalization", "stg_peek")
    assert "personalization: source peek.customer_master" in error
    assert "warehouse customers.duckdb: another domain's private warehouse" in error


def test_duckdb_sandbox_refuses_a_path_built_at_run_time(mesh, run):
    mesh.write("domains/sales/dbt/models/staging/stg_sneaky.sql", DYNAMIC_SQL)
    error = run("sales", "stg_sneaky")
    assert "lake/customers/customer_master/v1/x.parquet" in error
    assert "file system operations are disabled by configuration" in error
