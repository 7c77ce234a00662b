"""POST /v1/events through NATS JetStream: the API answers while the broker is down, the
outbox on disk holds the events, and once the broker is back each lands once."""

from __future__ import annotations

import logging

import duckdb
import pytest
from fastapi.testclient import TestClient
from mesh_platform.descriptors.loader import load_domain, load_mesh
from mesh_platform.events.config import URL_ENV, BusConfig
from mesh_platform.events.jetstream import JetStreamPublisher
from mesh_platform.events.outbox import Outbox
from mesh_platform.ingest.assets import landed_files, landing_ports
from mesh_platform.ingest.bus import bus_feeds, pull_feeds
from mesh_platform.ingest.loader import ingest_file
from mesh_platform.ingest.shape import load_source_shape
from mesh_platform.serving.app import create_app
from mesh_platform.serving.bus_writer import BusWriter, outbox_root

from tests.natsserver import nats_server
from tests.s3server import free_ports
from tests.serving.conftest import FAST
from tests.serving.test_events import event
from tests.support import wait_for

log = logging.getLogger(__name__)


class Sender:
    """Posts batches of events with known ids; remembers what was accepted."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.sent = client, []

    def post(self, count: int) -> int:
        ids = [f"bus-{len(self.sent) + i}" for i in range(count)]
        batch = [event(7, 12, event_id=i) for i in ids]
        response = self.client.post("/v1/events", json={"events": batch})
        if response.status_code == 202:
            self.sent += ids
        return response.status_code


def land_and_ingest(paths) -> tuple[list[str], int]:
    """Pull the bus as the web landing sensor does, ingest the files: (event ids, quarantined)."""
    web = load_domain(paths.domains / "web")
    feeds = bus_feeds(web, load_mesh(paths.domains)[0])
    assert feeds == [("web", "events_api")]
    pull_feeds(paths, feeds, log)
    port = landing_ports(web)["tracking_events"]
    shape = load_source_shape(paths.contracts, "web", "tracking_events")
    con = duckdb.connect()
    results = [ingest_file(con, shape, f, f.name) for f in landed_files(paths, port)]
    ids = [r[0] for r in con.execute("SELECT event_id FROM raw.tracking_events").fetchall()]
    return ids, sum(r.quarantined for r in results)


@pytest.mark.slow
def test_broker_outage_keeps_the_api_answering_and_delivers_once(published, tmp_path, monkeypatch):
    ports, store = free_ports(2), tmp_path / "js"
    monkeypatch.setenv(URL_ENV, f"nats://127.0.0.1:{ports[0]}")
    app = create_app(published, FAST)
    with TestClient(app) as client:
        sender, writer = Sender(client), app.state.writer
        assert isinstance(writer, BusWriter)
        with nats_server(store, ports):
            assert sender.post(5) == 202
            assert wait_for(lambda: writer.pending == 0)
        for _ in range(4):  # the broker is down: still 202, events wait on disk
            assert sender.post(25) == 202
        assert writer.pending == 100 and writer.outbox.pending_bytes > 0
        assert list(outbox_root(published.home).glob("*/seg-*.log"))
        with nats_server(store, ports):
            assert wait_for(lambda: writer.pending == 0, timeout=15)
            assert not list(published.landing.glob("web/events_api-*"))  # none landed as files
            ids, quarantined = land_and_ingest(published)
    assert sorted(ids) == sorted(sender.sent) and len(ids) == 105  # all, none twice
    assert quarantined == 0


@pytest.mark.slow
def test_producer_restart_delivers_its_outbox(published, tmp_path, monkeypatch):
    ports = free_ports(2)
    monkeypatch.setenv(URL_ENV, f"nats://127.0.0.1:{ports[0]}")
    with TestClient(create_app(published, FAST)) as client:  # no broker at all
        sender = Sender(client)
        assert sender.post(30) == 202 and sender.post(30) == 202
    left = Outbox(outbox_root(published.home) / "0")  # the app closed it: the lock is free
    assert left.pending == 60
    left.close()
    with nats_server(tmp_path / "js", ports):
        app = create_app(published, FAST)
        with TestClient(app):
            assert wait_for(lambda: app.state.writer.pending == 0, timeout=15)
        ids, quarantined = land_and_ingest(published)
    assert sorted(ids) == sorted(sender.sent) and quarantined == 0


def test_a_full_outbox_answers_503_and_keeps_what_it_holds(published, tmp_path):
    (port,) = free_ports(1)  # nobody listens: every publish fails
    app = create_app(published, FAST)
    publisher = JetStreamPublisher(BusConfig(f"nats://127.0.0.1:{port}"), "web", timeout_s=0.2)
    app.state.writer = BusWriter(Outbox(tmp_path / "outbox", max_events=10), publisher, 0.05)
    with TestClient(app) as client:
        sender = Sender(client)
        assert sender.post(10) == 202
        response = client.post("/v1/events", json={"events": [event(7, 12)]})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert response.json()["error"] == "landing_unavailable"
        assert client.get("/v1/ready").json()["pending_events"] == 10
