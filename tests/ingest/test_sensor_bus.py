"""With a bus, the landing sensor lands the broker's events as a file and requests its ingestion."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest
from mesh_platform.descriptors.loader import load_domain, load_mesh
from mesh_platform.events.bus import BusMessage
from mesh_platform.events.config import URL_ENV, bus_config
from mesh_platform.events.jetstream import JetStreamPublisher
from mesh_platform.ingest.assets import build_ingest_asset, landing_ports
from mesh_platform.ingest.bus import bus_feeds
from mesh_platform.ingest.sensors import build_landing_sensor
from mesh_platform.settings import mesh_paths

from tests.natsserver import nats_server
from tests.support import REPO


def line(i: int) -> BusMessage:
    row = {"event_id": f"api-{i}", "event_type": "view", "customer_id": i, "session_id": "s-1",
           "product_id": 12, "occurred_at": "2026-11-01T10:00:00", "device": "mobile"}  # fmt: skip
    return BusMessage(row["event_id"], json.dumps(row).encode())


def evaluate(sensor, instance, cursor):
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result.run_requests or [], result.cursor


@pytest.mark.slow
def test_the_landing_sensor_lands_bus_events_and_ingests_them_once(mesh_home, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    domain, paths = load_domain(REPO / "domains" / "web"), mesh_paths()
    feeds = bus_feeds(domain, load_mesh(REPO / "domains")[0])
    assets = {e: build_ingest_asset(domain, paths, e, p) for e, p in landing_ports(domain).items()}
    job = dg.define_asset_job("web_ingest", selection=dg.AssetSelection.assets(*assets.values()))
    op_names = {e: a.op.name for e, a in assets.items()}
    sensor = build_landing_sensor(domain, paths, job, op_names, feeds)
    defs = dg.Definitions(assets=list(assets.values()), jobs=[job], sensors=[sensor])
    with nats_server(tmp_path / "js") as nats, dg.instance_for_test() as instance:
        monkeypatch.setenv(URL_ENV, nats.url)
        config = bus_config()
        assert config is not None
        publisher = JetStreamPublisher(config, "web")
        publisher.publish([line(i) for i in range(1, 301)])
        publisher.publish([line(i) for i in range(250, 301)])  # a re-send: stored once
        publisher.close()
        requests, cursor = evaluate(sensor, instance, None)
        assert len(requests) == 1
        files = requests[0].run_config["ops"][op_names["tracking_events"]]["config"]["files"]
        assert len(files) == 1 and files[0].startswith("web/events_api-")
        assert defs.resolve_job_def("web_ingest").execute_in_process(
            run_config=requests[0].run_config, instance=instance).success  # fmt: skip
        assert evaluate(sensor, instance, cursor)[0] == []  # acked: nothing comes again
    with duckdb.connect(str(paths.warehouse_file("web")), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT event_id) FROM raw.tracking_events")
        assert rows.fetchone() == (300, 300)
