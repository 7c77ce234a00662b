"""A tiny published mesh for serving tests: catalog, sales and recommendation ports, registry."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from mesh_platform.ml import promotion, registry
from mesh_platform.ports import tables as ports
from mesh_platform.serving.app import create_app
from mesh_platform.serving.config import ServeConfig, ServedPorts
from mesh_platform.settings import MeshPaths, mesh_paths

# What the demo's domains/personalization/products/recommender.yaml `serving:` block resolves to
# (tests/serving/test_binding.py checks that it does).
SERVED = ServedPorts(
    model_name="recommender", predictions="personalization/recommendations@v1",
    entity="customer_id", item="product_id", rank="rank", score="score", as_of="as_of_date",
    catalogue="catalog/products@v1", catalogue_key="product_id", group="category",
    popularity="sales/order_lines@v1", popularity_item="product_id", popularity_time="order_date",
    popularity_weight="quantity", popularity_exclude=(("status", ("cancelled",)),),
    landing="web", landing_prefix="events_api",
    event_weights=(("view", 1.0), ("add_to_cart", 3.0)),
)  # fmt: skip
RECOMMENDATIONS, PRODUCTS, ORDER_LINES = [r for r in SERVED.refs() if r is not None]  # all three
MODEL_NAME = SERVED.model_name
CATEGORIES = ["toys", "books", "garden", "music"]
N_PRODUCTS = 40  # product p is in category CATEGORIES[p % 4]
CUSTOMERS = range(1, 31)  # customers 1..30 have recommendations; others are unknown
TOP_K = 10


def category_of(product_id: int) -> str:
    return CATEGORIES[product_id % len(CATEGORIES)]


def _write(table: pa.Table):
    return lambda folder: pq.write_table(table, Path(folder) / "part-0.parquet")


def publish_products(home: Path) -> None:
    ids = list(range(1, N_PRODUCTS + 1))
    table = pa.table({"product_id": pa.array(ids, pa.int64()),
                      "category": [category_of(p) for p in ids]})  # fmt: skip
    ports.publish(home, PRODUCTS, _write(table))


def publish_order_lines(home: Path) -> None:
    """Product 40 sells most, then 39...: popularity is the reverse of the id."""
    rows = [(p, 41 - p) for p in range(1, N_PRODUCTS + 1)]
    day = date(2026, 10, 1)
    table = pa.table({
        "product_id": pa.array([p for p, _ in rows], pa.int64()),
        "quantity": pa.array([q for _, q in rows], pa.int32()),
        "order_date": pa.array([day] * len(rows), pa.date32()),
        "status": ["completed"] * len(rows),
    })  # fmt: skip
    ports.publish(home, ORDER_LINES, _write(table))


def publish_recommendations(home: Path, model_version: int, offset: int = 0) -> None:
    """Customer c gets products c+offset, c+offset+1, ... (mod 40): each rank 1..10."""
    rows = []
    for c in CUSTOMERS:
        for r in range(1, TOP_K + 1):
            rows.append((c, r, (c + offset + r - 2) % N_PRODUCTS + 1, 1.0 - r / 20))
    table = pa.table({
        "customer_id": pa.array([r[0] for r in rows], pa.int64()),
        "rank": pa.array([r[1] for r in rows], pa.int64()),
        "product_id": pa.array([r[2] for r in rows], pa.int64()),
        "score": pa.array([r[3] for r in rows], pa.float64()),
        "as_of_date": pa.array([date(2026, 10, 31)] * len(rows), pa.date32()),
        "model_name": [MODEL_NAME] * len(rows),
        "model_version": pa.array([model_version] * len(rows), pa.int64()),
        "scored_at": pa.array([datetime(2026, 11, 1)] * len(rows), pa.timestamp("us")),
    })  # fmt: skip
    ports.publish(home, RECOMMENDATIONS, _write(table))


def register_champion(paths: MeshPaths, tmp: Path) -> int:
    """Register a (tiny, real) LightGBM model and make it the champion; returns its version."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    # One thread: LightGBM otherwise takes every core, beside the other xdist worker's tests.
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4, "num_threads": 1},
                        lgb.Dataset(x, (x[:, 0] > 0).astype(int)), num_boost_round=3)  # fmt: skip
    version = registry.register(
        paths.registry, MODEL_NAME, booster, {}, {"ndcg@10": 0.5}, {"f": "double"}, {},
        "test", None, {"window": str(tmp)}, {}, gates={"ndcg@10": ">= 0.2"},
    ).version  # fmt: skip
    assert promotion.promote(paths.registry, MODEL_NAME, version).promoted
    return version


@pytest.fixture
def published(mesh_home, tmp_path) -> MeshPaths:
    """A mesh home with products, order lines, recommendations (v1) and champion v1."""
    paths = mesh_paths()
    publish_products(paths.home)
    publish_order_lines(paths.home)
    version = register_champion(paths, tmp_path)
    publish_recommendations(paths.home, version)
    return paths


FAST = ServeConfig(SERVED, poll_interval_s=0.05, flush_interval_s=0.1)


@pytest.fixture
def client(published):
    """A TestClient on the app (lifespan run: index loaded, watcher and event writer started)."""
    with TestClient(create_app(published, FAST)) as c:
        yield c
