"""Events re-rank the customer at once and land as files the web domain's ingestion accepts."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.ingest.assets import landed_files, landing_ports
from mesh_platform.ingest.loader import ingest_file
from mesh_platform.ingest.shape import load_source_shape
from mesh_platform.serving.app import create_app
from mesh_platform.serving.journal import SessionJournal

from tests.serving.conftest import FAST, category_of
from tests.support import wait_for


def event(customer_id, product_id, kind="view", session="s-1", **extra) -> dict:
    return {"event_type": kind, "product_id": product_id, "session_id": session,
            "device": "mobile", "customer_id": customer_id, **extra}  # fmt: skip


def test_events_rerank_the_customer_on_the_next_request(client):
    before = client.get("/v1/recommendations/7?k=5").json()
    assert before["reranked"] is False
    own = {i["category"] for i in before["items"]}
    # Two garden add-to-carts and a view make garden the session's strongest interest.
    garden = [p for p in range(1, 41) if category_of(p) == "garden"]
    batch = [event(7, garden[0], "add_to_cart"), event(7, garden[1], "add_to_cart"),
             event(7, garden[2], "view")]  # fmt: skip
    response = client.post("/v1/events", json={"events": batch})
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "reranked_entities": 1, "lands_within_s": 0.1}
    after = client.get("/v1/recommendations/7?k=5").json()
    assert after["reranked"] is True and after["personalised"] is True
    assert after["items"][0]["category"] == "garden"
    assert sum(i["product_id"] in garden for i in after["items"]) > sum(
        i["category"] == "garden" for i in before["items"])  # fmt: skip
    assert own  # the customer had a list before: re-ranking changed it, not replaced a void
    other = client.get("/v1/recommendations/8?k=5").json()
    assert other["reranked"] is False  # only the customer with events is affected


def test_session_of_an_unknown_customer_reranks_the_fallback(client):
    client.post("/v1/events", json={"events": [event(5000, 13, "add_to_cart")]})
    body = client.get("/v1/recommendations/5000?k=4").json()
    assert body["personalised"] is False and body["fallback"] == "popularity"
    assert body["reranked"] is True and body["items"][0]["category"] == category_of(13)


def test_anonymous_events_land_but_rerank_nobody(client):
    response = client.post("/v1/events", json={"events": [event(None, 12)]})
    assert response.status_code == 202 and response.json()["reranked_entities"] == 0


def test_old_events_do_not_boost(client):
    stale = event(9, 12, "add_to_cart", occurred_at="2020-01-01T00:00:00Z")
    client.post("/v1/events", json={"events": [stale]})
    assert client.get("/v1/recommendations/9").json()["reranked"] is False


def test_events_land_as_files_the_web_ingestion_accepts(published):
    sent = [event(7, 12, "add_to_cart"), event(None, 3, session="anon-1"),
            event(8, 40, occurred_at="2026-11-01T10:00:00+02:00", event_id="client-1")]  # fmt: skip
    with TestClient(create_app(published, FAST)) as client:
        assert client.post("/v1/events", json={"events": sent[:2]}).status_code == 202
        assert client.post("/v1/events", json={"events": sent[2:]}).status_code == 202
    # Leaving the client ran the shutdown: every buffered event has landed.
    port = landing_ports(load_domain(published.domains / "web"))["tracking_events"]
    files = landed_files(published, port)
    assert files and all(f.name.startswith("events_api-") for f in files)
    assert not [p for p in (published.landing / "web").iterdir() if p.name.startswith(".")]
    shape = load_source_shape(published.contracts, "web", "tracking_events")
    con = duckdb.connect()
    results = [ingest_file(con, shape, f, f.name) for f in files]
    assert [r.status for r in results] == ["loaded"] * len(files), results
    assert sum(r.accepted for r in results) == 3 and sum(r.quarantined for r in results) == 0
    rows = con.execute("SELECT event_id, event_type, customer_id, session_id, product_id, "
                       "CAST(occurred_at AS VARCHAR), device FROM raw.tracking_events "
                       "ORDER BY session_id, product_id").fetchall()  # fmt: skip
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        ("view", None, "anon-1", 3, "mobile"), ("add_to_cart", 7, "s-1", 12, "mobile"),
        ("view", 8, "s-1", 40, "mobile")]  # fmt: skip
    assert rows[2][0] == "client-1" and rows[2][5] == "2026-11-01 08:00:00"  # stored in UTC
    assert rows[0][0] != rows[1][0] and rows[0][0].startswith("api-")


def test_events_land_while_serving_without_shutdown(client, published):
    client.post("/v1/events", json={"events": [event(7, 12)]})
    assert wait_for(lambda: list((published.landing / "web").glob("events_api-*.jsonl")))


def test_session_journal_shares_interest_between_workers(tmp_path):
    a, b = SessionJournal(tmp_path, 1800), SessionJournal(tmp_path, 1800)
    b.pid = a.pid + 1  # two workers
    a.write([(7, "garden", 3.0, 1.0e9)])
    b.write([(8, "toys", 1.0, 2.0e9)])
    assert b.tail() == [(7, "garden", 3.0, 1.0e9)]  # a's line, not its own
    assert a.tail() == [(8, "toys", 1.0, 2.0e9)]
    assert a.tail() == [] and b.tail() == []  # each line is applied once
    with open(next(tmp_path.glob("*.jsonl")), "ab") as fh:
        fh.write(b'{"pid": 1, "e": [[9, "bo')  # a line being written: not read yet
    assert b.tail() == []
