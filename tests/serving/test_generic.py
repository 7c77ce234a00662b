"""The server names nothing of the demo: other ports, columns and names are served the same way."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from mesh_platform.ports import tables as ports
from mesh_platform.serving.app import create_app
from mesh_platform.serving.config import ServeConfig, ServedPorts
from mesh_platform.settings import mesh_paths

SERVED = ServedPorts(
    model_name="shelf_ranker", predictions="shop/top_items@v2", entity="user_key", item="sku",
    rank="position", score="relevance", as_of="scored_for",
    catalogue="shop/items@v1", catalogue_key="sku", group="aisle",
    popularity="shop/sales@v1", popularity_item="sku", popularity_time="sold_at",
    event_weights=(("click", 1.0),),
)  # fmt: skip
AISLES = {s: ("dairy" if s % 2 else "bakery") for s in range(1, 21)}


def _publish(home: Path, ref: str, table: pa.Table) -> None:
    ref_ = ServedPorts(model_name="m", predictions=ref, entity="e", item="i").refs()[0]
    assert ref_ is not None
    ports.publish(home, ref_, lambda f: pq.write_table(table, Path(f) / "part-0.parquet"))


@pytest.fixture
def client(mesh_home):
    home = mesh_paths().home
    _publish(home, "shop/items@v1", pa.table({"sku": list(AISLES), "aisle": list(AISLES.values())}))
    # sku 20 sold most recently and most often; sku 1's sales are older than the 30-day window.
    now = datetime(2026, 11, 1, 12)
    sold = (
        [(20, now)] * 5 + [(19, now - timedelta(days=3))] * 3 + [(1, now - timedelta(days=60))] * 9
    )
    _publish(home, "shop/sales@v1", pa.table({"sku": [s for s, _ in sold],
                                              "sold_at": [t for _, t in sold]}))  # fmt: skip
    _publish(home, "shop/top_items@v2", pa.table({
        "user_key": [5, 5, 5], "sku": [2, 4, 6], "position": [2, 1, 3],
        "relevance": [0.5, 0.9, 0.1], "scored_for": [date(2026, 11, 1)] * 3,
        "model_name": ["shelf_ranker"] * 3, "model_version": [4] * 3,
    }))  # fmt: skip
    config = ServeConfig(SERVED, poll_interval_s=0.05)
    with TestClient(create_app(mesh_paths(), config, land_events=False)) as c:
        yield c


def test_answers_use_the_served_ports_names(client):
    body = client.get("/v1/top_items/5?k=3").json()
    assert body["user_key"] == 5 and body["personalised"] is True
    assert [(i["sku"], i["aisle"]) for i in body["items"]] == [(4, "bakery"), (2, "bakery"),
                                                                (6, "bakery")]  # fmt: skip
    assert body["model"] == {"name": "shelf_ranker", "version": 4,
                             "snapshot_id": body["model"]["snapshot_id"],
                             "as_of_date": "2026-11-01"}  # fmt: skip


def test_fallback_counts_rows_in_the_window_of_a_timestamp_column(client):
    body = client.get("/v1/top_items/99?k=3").json()
    assert body["fallback"] == "popularity"
    assert [i["sku"] for i in body["items"]] == [20, 19]  # sku 1 sold before the window


def test_events_take_the_served_names_and_event_types(client):
    click = {"event_type": "click", "sku": 19, "user_key": 5, "session_id": "s", "device": "mobile"}
    assert client.post("/v1/events", json={"events": [click]}).status_code == 202
    after = client.get("/v1/top_items/5?k=3").json()
    assert after["reranked"] is True and 19 in [i["sku"] for i in after["items"]]  # dairy joins
    view = {**click, "event_type": "view"}  # not an event type of this block
    assert client.post("/v1/events", json={"events": [view]}).status_code == 422
    spec = client.get("/openapi.json").json()
    assert "/v1/top_items/{user_key}" in spec["paths"]
    assert "/v1/recommendations/{customer_id}" not in spec["paths"]
