"""Event-driven ingestion: a new landed file triggers exactly one ingestion of that file."""

from __future__ import annotations

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.ingest.assets import build_ingest_asset, landing_ports
from mesh_platform.ingest.sensors import build_landing_sensor
from mesh_platform.settings import mesh_paths

from tests.support import REPO


def orders_file(path, first_id: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({
        "order_id": [first_id, first_id + 1], "customer_id": [1, 2],
        "ordered_at": pa.array([1_700_000_000_000_000] * 2, pa.timestamp("us")),
        "channel": ["web", "app"], "status": ["completed", "returned"],
    })  # fmt: skip
    pq.write_table(table, path)


@pytest.fixture
def sales(mesh_home):
    domain = load_domain(REPO / "domains" / "sales")
    paths = mesh_paths()
    ports = landing_ports(domain)
    assets = {e: build_ingest_asset(domain, paths, e, p) for e, p in ports.items()}
    job = dg.define_asset_job("sales_ingest", selection=dg.AssetSelection.assets(*assets.values()))
    op_names = {e: a.op.name for e, a in assets.items()}
    sensor = build_landing_sensor(domain, paths, job, op_names)
    defs = dg.Definitions(assets=list(assets.values()), jobs=[job], sensors=[sensor])
    return paths, defs, sensor


def evaluate(sensor, instance, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = sensor.evaluate_tick(context)
    return result.run_requests or [], result.cursor


def test_new_file_triggers_exactly_one_ingestion_of_that_file(sales):
    paths, defs, sensor = sales
    orders_file(paths.landing / "sales" / "orders_2026-01.parquet", 1)
    with dg.instance_for_test() as instance:
        requests, cursor = evaluate(sensor, instance, None)
        assert len(requests) == 1
        ops = requests[0].run_config["ops"]
        assert ops["sales__raw_erp_orders"]["config"]["files"] == ["sales/orders_2026-01.parquet"]
        assert ops["sales__raw_erp_order_lines"]["config"]["files"] == []
        assert evaluate(sensor, instance, cursor)[0] == []  # the same file is not requested twice

        job = defs.resolve_job_def("sales_ingest")
        result = job.execute_in_process(run_config=requests[0].run_config, instance=instance)
        assert result.success
        # After ingestion, even a sensor that lost its cursor asks for nothing.
        assert evaluate(sensor, instance, None)[0] == []

        orders_file(paths.landing / "sales" / "orders_2026-02.parquet", 10)  # a second delivery
        requests, cursor = evaluate(sensor, instance, cursor)
        files = requests[0].run_config["ops"]["sales__raw_erp_orders"]["config"]["files"]
        assert files == ["sales/orders_2026-02.parquet"]
        job.execute_in_process(run_config=requests[0].run_config, instance=instance)

    with duckdb.connect(str(paths.warehouse_file("sales")), read_only=True) as con:
        log = con.execute(
            "SELECT file, count(*) FROM meta.ingest_log GROUP BY file ORDER BY file"
        ).fetchall()
        raw = con.execute("SELECT count(*) FROM raw.erp_orders").fetchone()
    assert log == [("sales/orders_2026-01.parquet", 1), ("sales/orders_2026-02.parquet", 1)]
    assert raw == (4,)
