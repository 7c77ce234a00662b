"""A public port whose dbt model is a view is published like one from a table."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.warehouse import DuckDBWarehouse

from tests.support import port_files, run_mesh


def test_a_view_reading_a_path_under_mesh_home_is_exported(tmp_path):
    (tmp_path / "lake").mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3]}), tmp_path / "lake" / "part.parquet")
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"SET file_search_path = '{tmp_path}'")  # as dbt's profile sets it
        con.execute("CREATE VIEW port AS SELECT * FROM read_parquet('lake/part.parquet')")
    warehouse = DuckDBWarehouse(db, tmp_path)
    (tmp_path / "out").mkdir()
    warehouse.export_parquet("port", tmp_path / "out")
    assert pq.read_table(tmp_path / "out" / "part-0.parquet").num_rows == 3
    assert warehouse.row_counts(["port"]) == {"port": 3}


@pytest.mark.slow
def test_mesh_up_publishes_a_port_materialised_as_a_view(mesh_copy, tmp_path):
    sql = mesh_copy / "domains" / "catalog" / "dbt" / "models" / "marts" / "promotions.sql"
    sql.write_text("{{ config(materialized='view') }}\n" + sql.read_text())
    home = tmp_path / "home"
    proc = run_mesh(home, "up", "--scale", "0.02", "--domain", "catalog", root=mesh_copy)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Traceback" not in out
    assert pq.read_table(port_files(home, "catalog/promotions")[0]).num_rows > 0
    with duckdb.connect(str(home / "warehouse" / "catalog.duckdb"), read_only=True) as con:
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'promotions'"
        ).fetchone()
    assert kind == ("VIEW",)  # the model stayed a view: the port was published from it
