"""The recommendations API on a tiny published mesh: answers, fallback, errors, readiness."""

from __future__ import annotations

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from mesh_platform.ports import tables as ports
from mesh_platform.serving.app import create_app
from mesh_platform.settings import mesh_paths

from tests.serving.conftest import FAST, ORDER_LINES, RECOMMENDATIONS, category_of


def _port_rows(home, ref) -> list[dict]:
    """The rows of the port's current snapshot, read from its data files."""
    _, files = ports.snapshot_files(home, ref)
    return pq.read_table(files).to_pylist()


def _expected_popularity(home) -> list[int]:
    """Products by units sold, read from the order lines port independently of the service."""
    units: dict[int, int] = {}
    for row in _port_rows(home, ORDER_LINES):
        units[row["product_id"]] = units.get(row["product_id"], 0) + row["quantity"]
    return sorted(units, key=lambda p: (-units[p], p))


def test_known_customer_gets_the_champions_list_in_rank_order(client, published):
    rows = [r for r in _port_rows(published.home, RECOMMENDATIONS) if r["customer_id"] == 7]
    expected = [r["product_id"] for r in sorted(rows, key=lambda r: r["rank"])]
    body = client.get("/v1/recommendations/7").json()
    assert body["personalised"] is True and body["fallback"] is None
    assert [i["product_id"] for i in body["items"]] == expected
    assert [i["rank"] for i in body["items"]] == list(range(1, len(expected) + 1))
    assert {i["source"] for i in body["items"]} == {"model"}
    assert body["model"]["version"] == rows[0]["model_version"]
    current = ports.current_snapshot(published.home, RECOMMENDATIONS)
    assert current is not None and body["model"]["snapshot_id"] == current.snapshot_id


def metric(client, name: str) -> float:
    """One sample of the Prometheus exposition (metrics are process-wide: compare deltas)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not exposed")


def test_unknown_customer_gets_popularity_fallback_flagged(client, published):
    before = metric(client, "mesh_serving_fallbacks_total")
    body = client.get("/v1/recommendations/123456?k=5").json()
    assert body["personalised"] is False and body["fallback"] == "popularity"
    assert [i["product_id"] for i in body["items"]] == _expected_popularity(published.home)[:5]
    assert {i["source"] for i in body["items"]} == {"popularity"}
    assert metric(client, "mesh_serving_fallbacks_total") == before + 1


def test_k_beyond_the_models_list_is_topped_up_without_duplicates(client):
    items = client.get("/v1/recommendations/7?k=25").json()["items"]
    ids = [i["product_id"] for i in items]
    assert len(ids) == 25 == len(set(ids))
    assert [i["source"] for i in items[:10]] == ["model"] * 10
    assert {i["source"] for i in items[10:]} == {"popularity"}


def test_smaller_k_is_a_prefix(client):
    full = client.get("/v1/recommendations/7").json()["items"]
    assert client.get("/v1/recommendations/7?k=3").json()["items"] == full[:3]


def test_fast_path_and_documented_route_give_the_same_answer(client):
    # An extra query parameter sends the request through FastAPI's route instead.
    fast = client.get("/v1/recommendations/7?k=4")
    routed = client.get("/v1/recommendations/7?k=4&utm=x")
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content


def test_bad_requests_get_422_naming_the_field(client):
    cases = {
        "/v1/recommendations/abc": "customer_id",
        "/v1/recommendations/-3": "customer_id",
        "/v1/recommendations/0": "customer_id",
        "/v1/recommendations/99999999999999999999": "customer_id",
        "/v1/recommendations/7?k=0": "k",
        "/v1/recommendations/7?k=51": "k",
        "/v1/recommendations/7?k=ten": "k",
    }
    for url, field in cases.items():
        response = client.get(url)
        assert response.status_code == 422, url
        body = response.json()
        assert body["error"] == "invalid_request" and field in body["message"], (url, body)
        assert body["detail"][0]["field"].endswith(field)


def test_bad_json_gets_a_4xx_with_a_message(client):
    headers = {"content-type": "application/json"}
    broken = client.post("/v1/events", content=b'{"events": [', headers=headers)
    assert broken.status_code == 422 and "JSON" in broken.json()["message"]
    binary = client.post("/v1/events", content=b"\xff\xfe\x00", headers=headers)
    assert 400 <= binary.status_code < 500 and binary.json()["message"]
    unknown = client.post("/v1/events", json={"events": [{"event_type": "purchase"}]})
    assert unknown.status_code == 422
    assert "event_type" in unknown.json()["message"] and "product_id" in unknown.json()["message"]
    assert client.post("/v1/events", json={"events": []}).status_code == 422


def test_health_ready_and_metrics(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    ready = client.get("/v1/ready").json()
    assert ready["ready"] is True and ready["entities"] == 30
    assert ready["registry_champion"] == ready["model"]["version"] == 1
    client.get("/v1/recommendations/7")
    text = client.get("/metrics").text
    for name in ("mesh_serving_requests_total", "mesh_serving_request_duration_seconds_bucket",
                 "mesh_serving_model_version 1.0", "mesh_serving_shed_requests_total",
                 "mesh_serving_fallbacks_total"):  # fmt: skip
        assert name in text, name
    assert 'route="recommendations",status="200"' in text


def test_openapi_documents_the_response_models(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/v1/recommendations/{customer_id}"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("AnswerOut")
    assert {"422", "503"} <= set(get["responses"])
    assert "/v1/events" in spec["paths"] and "/metrics" in spec["paths"]
    # The documented names are the served port's columns (the serving block's configuration).
    assert [p["name"] for p in get["parameters"]] == ["customer_id", "k"]
    components = spec["components"]["schemas"]
    assert list(components["AnswerOut"]["properties"])[0] == "customer_id"
    assert {"product_id", "category"} <= set(components["ItemOut"]["properties"])
    assert {"product_id", "customer_id"} <= set(components["EventIn"]["properties"])


def test_not_ready_until_something_is_published(mesh_home):
    with TestClient(create_app(mesh_paths(), FAST, land_events=False)) as client:
        assert client.get("/v1/health").status_code == 200
        ready = client.get("/v1/ready")
        assert ready.status_code == 503 and "mesh up" in ready.json()["reason"]
        response = client.get("/v1/recommendations/7")
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert response.json()["error"] == "not_ready"


def test_categories_come_from_the_catalog_port(client):
    for item in client.get("/v1/recommendations/9?k=20").json()["items"]:
        assert item["category"] == category_of(item["product_id"])
