"""A port built from a same-domain port its contract refused in the same run is not published."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ports import PortRef, current_snapshot

from tests.support import MESH, REPO, env_with

pytestmark = pytest.mark.slow


def up(home: Path, *domains: str) -> subprocess.CompletedProcess:
    args = [a for d in domains for a in ("--domain", d)]
    return subprocess.run(
        [*MESH, "up", "--scale", "0.02", *args], capture_output=True, text=True, timeout=900,
        env=env_with(MESH_HOME=str(home), MESH_ML="off", COLUMNS="200"), cwd=REPO,
    )  # fmt: skip


def current(home: Path, port: str) -> str:
    """The id of the port's current snapshot (its Iceberg table's)."""
    snap = current_snapshot(home, PortRef("sales", port))
    assert snap is not None
    return snap.snapshot_id


def land_future_order(home: Path) -> None:
    """Valid for the source contracts, but order_lines' contract refuses orders from the future."""
    sales = home / "landing" / "sales"
    pq.write_table(pa.table({
        "order_id": [99_999_999], "customer_id": [1],
        "ordered_at": pa.array([4_102_444_800_000_000], pa.timestamp("us")),  # 2100-01-01
        "channel": ["web"], "status": ["completed"],
    }), sales / "orders_2100-01.parquet")  # fmt: skip
    pq.write_table(pa.table({
        "order_id": [99_999_999], "line_number": pa.array([1], pa.int32()), "product_id": [1],
        "quantity": pa.array([1], pa.int32()), "unit_price": [9.99], "discount_pct": [0.0],
        "promotion_id": pa.array([None], pa.int64()),
    }), sales / "order_lines_2100-01.parquet")  # fmt: skip


def test_port_reading_a_refused_same_domain_port_is_not_published(tmp_path):
    home = tmp_path / "mesh"
    first = up(home, "catalog", "sales")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines, revenue = current(home, "order_lines"), current(home, "daily_revenue")

    land_future_order(home)
    second = up(home, "sales")
    out = second.stdout + second.stderr
    assert second.returncode == 1, out[-3000:]
    assert current(home, "order_lines") == lines  # refused by its contract
    assert current(home, "daily_revenue") == revenue  # and so never published from it

    # The summary names each failed check with its reason, on one line, and no traceback.
    lines = out.splitlines()
    assert any(line.strip().startswith("sales/order_lines contract: ") and "no_future_orders"
               in line for line in lines), out  # fmt: skip
    blocked = ("  sales/daily_revenue contract: sales/daily_revenue/v1 not published: its input "
               "port sales/order_lines was refused by its contract in this run")  # fmt: skip
    assert blocked in lines, out
    assert "Traceback" not in out
