"""A new champion is served without a restart or a failed request; overload is shed with 503."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from mesh_platform.ports import tables as ports

from tests.serving.conftest import (
    N_PRODUCTS,
    RECOMMENDATIONS,
    TOP_K,
    publish_recommendations,
    register_champion,
)
from tests.serving.test_api import metric
from tests.support import wait_for


def expected(customer: int, offset: int) -> list[int]:
    """The list `publish_recommendations` gives a customer for an offset."""
    return [(customer + offset + r - 2) % N_PRODUCTS + 1 for r in range(1, TOP_K + 1)]


def test_new_champion_is_served_without_a_failed_request(client, published, tmp_path):
    answers: list[tuple[int, int | None, bool]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            response = client.get("/v1/recommendations/7")
            body = response.json() if response.status_code == 200 else {}
            version = body.get("model", {}).get("version")
            items = [i["product_id"] for i in body.get("items", [])]
            # Each answer must be one whole index: v1's list with v1, v2's list with v2.
            consistent = items == expected(7, 0 if version == 1 else 5)
            answers.append((response.status_code, version, consistent))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    assert wait_for(lambda: len(answers) > 50)
    new = register_champion(published, tmp_path)  # promoted in the registry first...
    publish_recommendations(published.home, new, offset=5)  # ...then its scores are published
    assert wait_for(lambda: any(v == new for _, v, _ in answers[-5:]))
    count = len(answers)
    assert wait_for(lambda: len(answers) > count + 50)
    stop.set()
    for t in threads:
        t.join()
    statuses = Counter(s for s, _, _ in answers)
    versions = Counter(v for _, v, _ in answers)
    assert statuses == {200: len(answers)}, statuses
    assert versions[1] > 0 and versions[new] > 0, versions
    assert all(ok for _, _, ok in answers)
    assert client.get("/v1/ready").json()["model"]["version"] == new


def test_a_broken_snapshot_keeps_the_previous_index(client, published):
    before = client.get("/v1/recommendations/7").json()
    failures = metric(client, "mesh_serving_index_swap_failures_total")
    # No product_id, no rank: the table keeps its columns, Iceberg writes them as NULLs.
    broken = pa.table({"customer_id": pa.array([1], pa.int64())})
    write = lambda folder: pq.write_table(broken, Path(folder) / "part-0.parquet")  # noqa: E731
    snap = ports.publish(published.home, RECOMMENDATIONS, write)
    current = ports.current_snapshot(published.home, RECOMMENDATIONS)
    assert current is not None and current.snapshot_id == snap.snapshot_id  # it is published
    assert wait_for(lambda: metric(client, "mesh_serving_index_swap_failures_total") > failures)
    assert client.get("/v1/recommendations/7").json() == before
    ready = client.get("/v1/ready").json()
    assert ready["ready"] is True and "product_id" in ready["last_reload_error"]


def test_past_capacity_requests_are_shed_with_retry_after(client, monkeypatch):
    shed_before = metric(client, "mesh_serving_shed_requests_total")
    admission = client.app.state.admission  # the Gateway's serving state
    monkeypatch.setattr(admission, "pending", lambda: admission.limit + 1)
    response = client.get("/v1/recommendations/7")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"] == "overloaded"
    assert client.post("/v1/events", json={"events": []}).status_code == 503
    # Probes and metrics still answer, so an overloaded instance is not declared dead.
    assert client.get("/v1/health").status_code == 200
    assert client.get("/v1/ready").status_code == 200
    assert metric(client, "mesh_serving_shed_requests_total") == shed_before + 2
    monkeypatch.undo()
    assert client.get("/v1/recommendations/7").status_code == 200
