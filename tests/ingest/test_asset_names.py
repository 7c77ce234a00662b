"""Ingestion asset names: a feed called raw_<x> is ingested by asset raw_<x>, not raw_raw_<x>."""

from __future__ import annotations

import shutil
import uuid

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.descriptors.models import InputPort
from mesh_platform.ingest.assets import build_ingest_asset, raw_key
from mesh_platform.lineage.emit import DagsterRun
from mesh_platform.lineage.ingest_events import ingestion_events
from mesh_platform.settings import MeshPaths

from tests.support import REPO


def test_raw_prefix_is_not_doubled():
    assert raw_key("crm", "customers") == dg.AssetKey(["crm", "raw_customers"])
    assert raw_key("crm", "raw_customers") == dg.AssetKey(["crm", "raw_customers"])


def test_feed_named_raw_customers_ingests_as_raw_customers(mesh_home, tmp_path):
    """A copy of sales' erp_orders feed renamed raw_erp_orders: its asset, op and lineage job."""
    paths = MeshPaths(root=tmp_path / "repo", home=mesh_home)
    contract = REPO / "contracts/sales/sources/erp_orders.odcs.yaml"
    target = paths.contracts / "sales/sources/raw_erp_orders.odcs.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(contract.read_text().replace("erp_orders", "raw_erp_orders"))
    shutil.copytree(
        REPO / "domains/sales", tmp_path / "sales", ignore=shutil.ignore_patterns("target")
    )
    port = InputPort(name="raw_erp_orders", kind="landing", location="sales/orders_*.parquet")
    asset = build_ingest_asset(load_domain(tmp_path / "sales"), paths, "raw_erp_orders", port)
    assert asset.key == dg.AssetKey(["sales", "raw_erp_orders"])

    landed = paths.landing / "sales/orders_1.parquet"
    landed.parent.mkdir(parents=True)
    pq.write_table(pa.table({"order_id": [1], "customer_id": [1],
                             "ordered_at": pa.array([1_700_000_000_000_000], pa.timestamp("us")),
                             "channel": ["web"], "status": ["completed"]}), landed)  # fmt: skip
    result = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [asset.key]

    run = DagsterRun("sales", "job", str(uuid.uuid4()))
    events = ingestion_events(
        paths, run, "raw_erp_orders", "sales/orders_*.parquet", {}, [], 1, 0, "t"
    )
    assert {e["job"]["name"] for e in events} == {"sales.raw_erp_orders"}
