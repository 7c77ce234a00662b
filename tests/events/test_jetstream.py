"""A real JetStream: events round-trip in order, a re-sent key is stored once, acked is gone."""

from __future__ import annotations

import json
import time

import pytest
from mesh_platform.events.bus import BusMessage, BusUnavailable
from mesh_platform.events.config import BusConfig
from mesh_platform.events.jetstream import JetStreamConsumer, JetStreamPublisher
from mesh_platform.events.lander import land_feed

from tests.natsserver import nats_server
from tests.s3server import free_ports


def landed_ids(folder) -> list[str]:
    return [json.loads(line)["event_id"] for f in sorted(folder.glob("events_api-*.jsonl"))
            for line in f.read_text().splitlines()]  # fmt: skip


def test_publish_consume_round_trip_once(tmp_path):
    with nats_server(tmp_path / "js") as nats:
        config = BusConfig(nats.url)
        publisher = JetStreamPublisher(config, "web")
        batch = [BusMessage(f"e{i}", b'{"event_id": "e%d"}' % i) for i in range(200)]
        started = time.perf_counter()
        assert publisher.publish(batch) == 200
        publish_s = time.perf_counter() - started
        assert publisher.publish(batch[:10]) == 10 and publisher.duplicates == 10  # stored once
        consumer = JetStreamConsumer(config, "web", "events_api")
        folder, journal = tmp_path / "landing" / "web", tmp_path / "state" / "j.json"
        started = time.perf_counter()
        done = land_feed(consumer, folder, "events_api", journal, wait_s=0.2)
        land_s = time.perf_counter() - started
        assert (done.events, done.files, done.redelivered) == (200, 1, 0)
        assert landed_ids(folder) == [f"e{i}" for i in range(200)]  # in order, each once
        assert land_feed(consumer, folder, "events_api", journal, wait_s=0.2).events == 0
        publisher.close()
        consumer.close()
    print(f"publish 200: {publish_s * 1000:.1f} ms; fetch+land+ack 200: {land_s * 1000:.1f} ms")


def test_an_unreachable_broker_is_bus_unavailable(tmp_path):
    (port,) = free_ports(1)
    publisher = JetStreamPublisher(BusConfig(f"nats://127.0.0.1:{port}"), "web", timeout_s=0.5)
    with pytest.raises(BusUnavailable) as info:
        publisher.publish([BusMessage("e1", b"{}")])
    assert info.value.done == 0
    publisher.close()
