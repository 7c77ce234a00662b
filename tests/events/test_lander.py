"""The lander acks only landed events and lands a redelivered event once (a fake broker)."""

from __future__ import annotations

import json

import pytest
from mesh_platform.events import lander
from mesh_platform.events.bus import BusUnavailable, Delivery
from mesh_platform.events.lander import land_feed


class FakeConsumer:
    """At-least-once: what is not acked is delivered again by the next fetch."""

    def __init__(self, events: list[str]) -> None:
        self.unacked = [Delivery(e, json.dumps({"event_id": e}).encode(), e) for e in events]
        self.fail_ack = False
        self.acked: list[str] = []
        self._cursor = 0

    def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        batch = self.unacked[self._cursor : self._cursor + max_events]
        self._cursor += len(batch)
        return batch

    def ack(self, deliveries) -> None:
        if self.fail_ack:
            raise BusUnavailable("broker gone")
        done = {d.key for d in deliveries}
        self.acked += sorted(done)
        self.unacked = [d for d in self.unacked if d.key not in done]
        self._cursor -= len(done)

    def redeliver(self) -> None:
        self._cursor = 0

    def close(self) -> None:
        pass


def landed_ids(folder) -> list[str]:
    return [json.loads(line)["event_id"] for f in sorted(folder.glob("ev-*.jsonl"))
            for line in f.read_text().splitlines()]  # fmt: skip


def test_lands_acks_and_skips_what_it_landed_before_a_lost_ack(tmp_path):
    folder, journal = tmp_path / "landing", tmp_path / "state" / "j.json"
    bus = FakeConsumer(["a", "b", "a"])  # "a" twice: the second is the same event
    bus.fail_ack = True
    with pytest.raises(BusUnavailable):
        land_feed(bus, folder, "ev", journal)
    assert landed_ids(folder) == ["a", "b"]  # landed, then the ack was lost
    assert not list(folder.glob(".*"))  # no half-written file is left
    bus.fail_ack = False
    bus.redeliver()
    bus.unacked.append(Delivery("c", b'{"event_id": "c"}', "c"))
    done = land_feed(bus, folder, "ev", journal)
    assert landed_ids(folder) == ["a", "b", "c"]  # each once
    assert (done.events, done.redelivered, done.files) == (1, 3, 1)
    assert bus.unacked == []
    assert all(e["unacked"] == [] and e["acked"] for e in json.loads(journal.read_text()))


def test_acks_the_broker_confirmed_then_lost_land_nothing_twice(tmp_path):
    """A JetStream server killed just after confirming acks delivers those events again."""
    folder, journal = tmp_path / "landing", tmp_path / "j.json"
    bus = FakeConsumer(["a", "b"])
    assert land_feed(bus, folder, "ev", journal).events == 2
    bus.unacked = [Delivery(e, json.dumps({"event_id": e}).encode(), e) for e in "abc"]
    done = land_feed(bus, folder, "ev", journal)
    assert (done.events, done.redelivered) == (1, 2) and landed_ids(folder) == ["a", "b", "c"]


def test_acked_keys_are_kept_for_a_bounded_count(tmp_path, monkeypatch):
    monkeypatch.setattr(lander, "KEEP_ACKED_EVENTS", 4)
    monkeypatch.setattr(lander, "FILE_EVENTS", 2)
    folder, journal = tmp_path / "landing", tmp_path / "j.json"
    land_feed(FakeConsumer([f"e{i}" for i in range(10)]), folder, "ev", journal)
    kept = [k for e in json.loads(journal.read_text()) for k in e["keys"]]
    assert kept == ["e6", "e7", "e8", "e9"]  # the newest; the journal stays small


def test_a_file_that_never_landed_is_landed_on_redelivery(tmp_path):
    folder, journal = tmp_path / "landing", tmp_path / "j.json"
    journal.write_text(json.dumps([{"file": "ev-gone.jsonl", "keys": ["a"], "at": 1e18}]))
    bus = FakeConsumer(["a"])
    assert land_feed(bus, folder, "ev", journal).events == 1
    assert landed_ids(folder) == ["a"]
