"""Bearer tokens on the lineage API, and the platform's transport sending the configured one."""

from __future__ import annotations

import pytest
from mesh_platform.access.tokens import LINEAGE, ApiAuth
from mesh_platform.lineage.delivery import configured_transport, deliver, flush, pending
from mesh_platform.lineage.server import create_app, running
from starlette.testclient import TestClient

from tests.lineage.test_delivery import http_backend
from tests.lineage.test_server import (  # noqa: F401 - ol_env is a fixture
    ol_env,
    paths_at,
    run_event,
    stored,
)
from tests.support import free_port

pytestmark = pytest.mark.usefixtures("ol_env")
TOKEN = "lineage-token-0123456789abcdef"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
READ = "/api/v1/lineage?nodeId=dataset:file:/lake/x&depth=1"


def auth(protect_reads: bool = False) -> ApiAuth:
    return ApiAuth(LINEAGE, TOKEN, protect_reads, "MESH_LINEAGE_TOKEN")


def assert_401(response, what: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer realm="mesh lineage"')
    body = response.json()
    assert body["code"] == 401 and what in body["message"] and TOKEN not in response.text


def test_posting_needs_the_token_reads_and_health_do_not(tmp_path):
    paths = paths_at(tmp_path, "backend")
    with TestClient(create_app(paths, auth())) as c:
        assert_401(c.post("/api/v1/lineage", json=run_event("a")), "header is missing")
        wrong = c.post("/api/v1/lineage", json=run_event("a"),
                       headers={"Authorization": "Bearer nope-0123456789abcdef"})  # fmt: skip
        assert_401(wrong, "not the one configured in MESH_LINEAGE_TOKEN")
        assert_401(c.post("/api/v1/lineage", content=b"{bad"), "missing")  # before the body
        assert c.post("/api/v1/lineage", json=run_event("a"), headers=GOOD).status_code == 201
        assert c.get(READ).status_code == 404  # open read: the node is unknown
        assert c.get("/api/v1/health").json()["stored"] == 1
    assert [e["job"]["name"] for e in stored(paths)] == ["a"]


def test_protected_reads(tmp_path):
    with TestClient(create_app(paths_at(tmp_path, "backend"), auth(True))) as c:
        assert_401(c.get(READ), "missing")
        assert_401(c.get("/api/v1/column-lineage?nodeId=dataset:file:/x"), "missing")
        assert c.get(READ, headers=GOOD).status_code == 404
        assert c.get("/api/v1/health").status_code == 200


def test_the_transport_sends_the_configured_token(monkeypatch, tmp_path):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    monkeypatch.setenv("MESH_LINEAGE_TOKEN", TOKEN)
    with running(paths_at(tmp_path, "backend"), port=port, auth=auth()):
        deliver(paths, [run_event("a")])
    assert pending(paths) == 0
    assert [e["job"]["name"] for e in stored(paths_at(tmp_path, "backend"))] == ["a"]


def test_a_token_file_is_sent_too(monkeypatch, tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("MESH_API_TOKEN_FILE", str(tmp_path / "token"))
    transport = configured_transport()
    assert transport is not None
    assert transport.config.auth.get_bearer() == f"Bearer {TOKEN}"  # type: ignore[attr-defined]


def test_an_openlineage_auth_section_wins(monkeypatch):
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", "http://127.0.0.1:1")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "api_key")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", "marquez-key")
    monkeypatch.setenv("MESH_LINEAGE_TOKEN", TOKEN)
    transport = configured_transport()
    assert transport.config.auth.get_bearer() == "Bearer marquez-key"  # type: ignore[union-attr]


def test_a_missing_token_keeps_events_in_the_outbox(monkeypatch, tmp_path, caplog):
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    with running(paths_at(tmp_path, "backend"), port=port, auth=auth()):
        deliver(paths, [run_event("a")])  # 401: a credentials problem, not a bad event
        assert pending(paths) == 1 and "MESH_LINEAGE_TOKEN" in caplog.text
        assert not (paths.lineage / "outbox" / "rejected.jsonl").exists()
        monkeypatch.setenv("MESH_LINEAGE_TOKEN", TOKEN)
        assert flush(paths) == (1, 0)
