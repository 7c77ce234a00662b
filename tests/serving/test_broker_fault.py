"""The broker stopped while events arrive at a real `mesh serve`: answers go on, events wait on
disk, and once it is back each event lands once (counted in the landed files)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections import Counter

import httpx
import pytest
from mesh_platform.descriptors.loader import load_domain, load_mesh
from mesh_platform.events.config import URL_ENV, BusConfig
from mesh_platform.ingest.bus import bus_feeds, pull_feeds
from mesh_platform.serving.bus_writer import outbox_root

from tests.natsserver import nats_server
from tests.s3server import free_ports
from tests.serving.test_events import event
from tests.serving.test_serve_process import start
from tests.support import stop, wait_for

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)
BATCH = 20  # events per POST


class Traffic(threading.Thread):
    """Posts batches of uniquely keyed events (and reads an answer) until stopped."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.halt = base, threading.Event()
        self.accepted: list[str] = []
        self.statuses: Counter = Counter()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=5) as client:
            n = 0
            while not self.halt.is_set():
                ids = [f"fault-{n + i}" for i in range(BATCH)]
                n += BATCH
                try:
                    posted = client.post("/v1/events", json={"events": [
                        event(7, 12, event_id=i) for i in ids]})  # fmt: skip
                    read = client.get("/v1/recommendations/7")
                except httpx.TransportError as exc:  # counted: the test wants none
                    self.statuses[type(exc).__name__] += 1
                    continue
                self.statuses[f"POST {posted.status_code}"] += 1
                self.statuses[f"GET {read.status_code}"] += 1
                if posted.status_code == 202:
                    self.accepted += ids
                time.sleep(0.05)  # ~300 events/s: the lander keeps up on a busy machine


def pending(base: str) -> int:
    return httpx.get(f"{base}/v1/ready", timeout=5).json()["pending_events"]


def landed_ids(paths) -> Counter:
    """Every event id in the landed files of the web feed, counted."""
    lines = (ln for f in (paths.landing / "web").glob("events_api-*.jsonl")
             for ln in f.read_text().splitlines() if ln)  # fmt: skip
    return Counter(json.loads(ln)["event_id"] for ln in lines)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_broker_down_while_events_arrive_delivers_each_event_once(published, tmp_path, how):
    port, monitor = free_ports(2)
    ports, store, url = (port, monitor), tmp_path / "js", f"nats://127.0.0.1:{port}"
    feeds = bus_feeds(load_domain(published.domains / "web"), load_mesh(published.domains)[0])

    def sense() -> int:  # what the web domain's landing sensor does on a tick
        return pull_feeds(published, feeds, log, config=BusConfig(url))

    proc = traffic = None
    try:
        with nats_server(store, ports) as nats:
            proc, base = start(published.home, "--flush-interval", "0.2", env={URL_ENV: url})
            traffic = Traffic(base)
            traffic.start()
            time.sleep(1.5)
            assert sense() > 0  # some land before the outage
            os.killpg(nats.pid, how)  # SIGKILL: no shutdown; what it acked is on disk or lost
        # The broker is down and events keep arriving.
        accepted_at_stop = len(traffic.accepted)
        assert wait_for(lambda: len(traffic.accepted) > accepted_at_stop + 400, timeout=30)
        time.sleep(2)
        waiting = pending(base)
        assert waiting > 0  # kept ...
        segments = list(outbox_root(published.home).glob("*/seg-*.log"))
        assert sum(s.stat().st_size for s in segments) > 0  # ... on disk
        assert sense() == 0  # the sensor skips a broker that is down
        with nats_server(store, ports):  # back, on its own data
            time.sleep(1)
            traffic.halt.set()
            traffic.join(timeout=30)
            assert wait_for(lambda: pending(base) == 0, timeout=30)
            sense()
            assert sense() == 0  # all acked: nothing comes again
    finally:
        if traffic is not None:
            traffic.halt.set()
        if proc is not None:
            assert stop(proc, timeout=60) == 0
    assert traffic is not None
    statuses = dict(traffic.statuses)
    assert set(statuses) == {"POST 202", "GET 200"}, statuses  # no 5xx, no failed connection
    landed = landed_ids(published)
    assert set(landed) == set(traffic.accepted)  # every accepted event, nothing else
    assert max(landed.values()) == 1, landed.most_common(3)  # none twice
    assert len(traffic.accepted) > waiting
    assert all("-bus-" in f.name for f in (published.landing / "web").glob("events_api-*"))
