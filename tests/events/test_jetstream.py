"""A real JetStream: events round-trip in order, a re-sent key is stored once, acked is gone."""

from __future__ import annotations

import asyncio
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


def test_an_unreachable_broker_is_bus_unavailable_at_once(tmp_path):
    (port,) = free_ports(1)
    config = BusConfig(f"nats://127.0.0.1:{port}")
    publisher, consumer = JetStreamPublisher(config, "web"), JetStreamConsumer(config, "web", "a")
    for call in (
        lambda: publisher.publish([BusMessage("e1", b"{}")]),
        lambda: consumer.fetch(9, 1),
    ):
        started = time.perf_counter()
        with pytest.raises(BusUnavailable, match=f"127.0.0.1:{port}") as info:
            call()
        # A refused connection fails now, not after the call's own deadline (13 s here): the
        # publisher retries soon and a sensor tick is not held up while the broker is down.
        assert time.perf_counter() - started < 1.5 and info.value.done == 0
    publisher.close()
    consumer.close()


async def _waiting_pulls(url: str, stream: str, durable: str) -> int:
    import nats

    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().consumer_info(stream, durable)).num_waiting or 0
    finally:
        await nc.close()


def test_a_fetch_that_found_nothing_leaves_no_pull_request_waiting(tmp_path):
    """A pull request outliving its fetch would take the next events to a caller that has gone
    (the sensor closes its connection each tick): they would come again only after ACK_WAIT_S."""
    with nats_server(tmp_path / "js") as nats:
        config = BusConfig(nats.url)
        consumer = JetStreamConsumer(config, "web", "events_api")
        started = time.perf_counter()
        assert consumer.fetch(10, 0.3) == []
        assert 0.3 <= time.perf_counter() - started < 2  # it waited for a first event
        assert asyncio.run(_waiting_pulls(nats.url, config.stream, consumer.durable)) == 0
        consumer.close()
        publisher = JetStreamPublisher(config, "web")
        publisher.publish([BusMessage(f"e{i}", b"{}") for i in range(5)])
        publisher.close()
        again = JetStreamConsumer(config, "web", "events_api")
        assert [d.key for d in again.fetch(3, 0)] == ["e0", "e1", "e2"]  # at once, in order
        assert [d.key for d in again.fetch(10, 0)] == ["e3", "e4"]
        again.close()
