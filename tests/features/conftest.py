"""One small mesh with the ports the personalization domain reads, published once a session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from mesh_platform import ports
from mesh_platform.ports import PortRef

from tests.features.build import build_features
from tests.support import MeshCopy, copy_mesh, port_files, run_mesh

SCALE, SEED = "0.3", "7"  # ~1,500 customers, ~30k order lines (as tests/ml)
UPSTREAM = ("catalog", "customers", "sales", "web")  # the domains whose ports are read
# The ports the feature models read, and the columns moved when the future is changed.
PORTS = {
    "catalog/products": None,
    "catalog/promotions": None,
    "customers/customer_profiles": None,
    "sales/order_lines": "order_date",
    "web/product_interactions": "event_date",
}
# What changes in a row moved {n} days into the future, by its day column.
MOVED = {
    "order_date": "order_date + {n} AS order_date, ordered_at + INTERVAL {n} DAY AS ordered_at, "
    "quantity * 2 AS quantity",
    "event_date": "event_date + {n} AS event_date, views * 3 AS views",
}


@dataclass(frozen=True)
class Built:
    """A MESH_HOME whose personalization warehouse holds the built feature tables."""

    home: Path
    warehouse: Path

    def table(self, name: str, as_of: date | None = None) -> pd.DataFrame:
        """A feature table (rows at ``as_of`` only, when given), sorted by its keys."""
        keys = ["as_of_date", "customer_id"] + (["product_id"] if "recommender" in name else [])
        where = f"WHERE as_of_date = DATE '{as_of}'" if as_of else ""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(f"SELECT * FROM main.{name} {where} ORDER BY {', '.join(keys)}").df()

    def as_of_dates(self, name: str) -> list[date]:
        """The table's as-of dates, in order."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            rows = con.execute(f"SELECT DISTINCT as_of_date FROM main.{name} ORDER BY 1")
            return [r[0] for r in rows.fetchall()]


@pytest.fixture(scope="session")
def upstream(tmp_path_factory) -> MeshCopy:
    """A copy of the demo mesh whose upstream domains are built: the ports are published."""
    base = tmp_path_factory.mktemp("features")
    mesh = MeshCopy(root=copy_mesh(base / "repo"), home=base / "home")
    domains = [arg for name in UPSTREAM for arg in ("-d", name)]
    proc = run_mesh(mesh.home, "up", "--scale", SCALE, "--seed", SEED, *domains, root=mesh.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return mesh


@pytest.fixture(scope="session")
def built(upstream) -> Built:
    """The feature tables built by dbt on the published ports."""
    return Built(upstream.home, build_features(upstream.home, upstream.root))


def changed_ports(source: Path, dest: Path, cut: date, shift_days: int | None) -> Path:
    """A MESH_HOME whose ports are ``source``'s, changed from ``cut`` on.

    Orders and interactions on or after ``cut`` are dropped (``shift_days`` None) or moved
    ``shift_days`` later with their quantities doubled and views tripled. Nothing before ``cut``
    changes.
    """
    with duckdb.connect() as con:
        for port, day in PORTS.items():
            rows = f"read_parquet({port_files(source, port)!r})"
            if day is None:
                query = f"SELECT * FROM {rows}"
            else:
                query = f"SELECT * FROM {rows} WHERE {day} < DATE '{cut}'"
                if shift_days is not None:
                    moved = MOVED[day].format(n=shift_days)
                    query += (f" UNION ALL SELECT * REPLACE ({moved}) FROM {rows} "
                              f"WHERE {day} >= DATE '{cut}'")  # fmt: skip
            producer, product = port.split("/")  # published as its producer would: a snapshot
            ref = PortRef(producer, product)
            ports.publish(dest, ref, lambda folder, q=query: con.execute(
                f"COPY ({q}) TO '{folder}/part-0.parquet' (FORMAT parquet)"))  # fmt: skip
    return dest


def build_changed(upstream: MeshCopy, dest: Path, cut: date, shift_days: int | None) -> Built:
    """Build the feature tables on ``upstream``'s ports changed from ``cut`` on."""
    changed_ports(upstream.home, dest, cut, shift_days)
    warehouse = build_features(dest, upstream.root)
    shutil.rmtree(dest / "lake")
    shutil.rmtree(dest / "iceberg")
    return Built(dest, warehouse)


def data_end(built: Built) -> date:
    """The scoring as-of date: the day after the last order date."""
    (end,) = built.as_of_dates("churn_scoring")
    return end
