"""Bearer tokens on the service: writes need one, reads when asked, probes never; OpenAPI too."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from mesh_platform.access.tokens import SERVE, ApiAuth
from mesh_platform.serving.app import create_app

from tests.serving.conftest import FAST

TOKEN = "serve-token-0123456789abcdef"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
EVENT = {"event_type": "view", "product_id": 3, "session_id": "s", "device": "mobile",
         "customer_id": 7}  # fmt: skip


def app_with(published, protect_reads: bool = False):
    auth = ApiAuth(SERVE, TOKEN, protect_reads, "MESH_SERVE_TOKEN")
    return create_app(published, FAST, land_events=False, auth=auth)


@pytest.fixture
def guarded(published):
    with TestClient(app_with(published)) as c:
        yield c


@pytest.fixture
def guarded_reads(published):
    with TestClient(app_with(published, protect_reads=True)) as c:
        yield c


def assert_401(response, what: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "unauthorized" and what in body["message"]
    assert TOKEN not in response.text


def test_events_need_the_token(guarded):
    assert_401(guarded.post("/v1/events", json={"events": [EVENT]}), "header is missing")
    wrong = guarded.post("/v1/events", json={"events": [EVENT]},
                         headers={"Authorization": "Bearer wrong-0123456789abcdef"})  # fmt: skip
    assert_401(wrong, "not the one configured in MESH_SERVE_TOKEN")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    basic = {"Authorization": f"Basic {TOKEN}"}
    assert_401(guarded.post("/v1/events", json={"events": [EVENT]}, headers=basic), "not a bearer")
    ok = guarded.post("/v1/events", json={"events": [EVENT]}, headers=GOOD)
    assert ok.status_code == 202, ok.text


def test_the_token_is_checked_before_the_body_is_read(guarded):
    assert_401(guarded.post("/v1/events", content=b"{not json"), "missing")
    assert guarded.post("/v1/events", content=b"{not json", headers=GOOD).status_code in (400, 422)


def test_reads_and_probes_stay_open_by_default(guarded):
    assert guarded.get("/v1/recommendations/7").status_code == 200
    for path in ("/v1/health", "/v1/ready", "/metrics", "/openapi.json", "/docs"):
        assert guarded.get(path).status_code == 200, path


def test_protected_reads_cover_the_fast_path_and_the_validated_route(guarded_reads):
    c = guarded_reads
    assert_401(c.get("/v1/recommendations/7"), "missing")  # the gateway's fast path
    assert_401(c.get("/v1/recommendations/7?k=3&x=1"), "missing")  # FastAPI's route
    assert c.get("/v1/recommendations/7", headers=GOOD).json()["personalised"] is True
    assert c.get("/v1/recommendations/7?k=3&x=1", headers=GOOD).status_code == 200
    for path in ("/v1/health", "/v1/ready", "/metrics"):
        assert c.get(path).status_code == 200, path
    assert 'route="recommendations",status="401"' in c.get("/metrics").text


def test_the_fastapi_routes_check_too_without_the_gateway(published):
    bare = app_with(published, protect_reads=True).app  # the FastAPI app behind the gateway
    with TestClient(bare) as c:
        assert_401(c.post("/v1/events", json={"events": [EVENT]}), "missing")
        assert_401(c.get("/v1/recommendations/7"), "missing")
        assert c.get("/v1/recommendations/7", headers=GOOD).status_code == 200


def _security(doc: dict) -> dict[str, list]:
    return {f"{method.upper()} {path}": op.get("security", [])
            for path, ops in doc["paths"].items() for method, op in ops.items()}  # fmt: skip


def test_openapi_declares_the_bearer_scheme_on_protected_routes(published):
    with TestClient(app_with(published)) as c:
        doc = c.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["bearerToken"]
    assert scheme == {"type": "http", "scheme": "bearer",
                      "description": "The token configured in MESH_SERVE_TOKEN."}  # fmt: skip
    security = _security(doc)
    assert security["POST /v1/events"] == [{"bearerToken": []}]
    assert "401" in doc["paths"]["/v1/events"]["post"]["responses"]
    assert security["GET /v1/recommendations/{customer_id}"] == []
    assert security["GET /v1/ready"] == [] and security["GET /metrics"] == []
    with TestClient(app_with(published, protect_reads=True)) as c:
        security = _security(c.get("/openapi.json").json())
    assert security["GET /v1/recommendations/{customer_id}"] == [{"bearerToken": []}]


def test_without_a_token_nothing_is_declared_or_required(client):
    doc = client.get("/openapi.json").json()
    assert "securitySchemes" not in doc.get("components", {})
    assert client.post("/v1/events", json={"events": [EVENT]}).status_code == 202
