"""Land a feed's events from the bus as files in the landing zone: ack after, apply once.

Fetched events become one file per FILE_EVENTS, written like the serving API's (fsynced under a
dot-name, then renamed), and are acked only after that. Before the rename, their keys go to a
small journal: events redelivered after a crash between rename and ack are recognised by their
keys (the file exists) and acked without landing them again. Keys stay there a while after
their ack too, because a broker that confirmed an ack can still lose it: a JetStream server
killed (SIGKILL) moments after confirming acks delivered those events again on restart. So the
broker delivers at least once and the landing zone gets each event once.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mesh_platform.events.bus import Consumer, Delivery

FILE_EVENTS = 5_000  # events per landed file (the serving writer's flush_max_events)
KEEP_UNACKED_S = 7 * 86400.0  # a journal entry whose acks were lost is forgotten after this
# Acked keys are kept for this long after the newest ack (not the clock: a broker down for a day
# redelivers what it lost when it is back) and at most this many, the newest first. What a
# crash loses is the broker's last moments of acks.
KEEP_ACKED_S = 300.0
KEEP_ACKED_EVENTS = 50_000
_seq = itertools.count(1)


@dataclass
class Landed:
    """What one call landed: events, files, and redelivered events recognised as landed."""

    events: int = 0
    files: int = 0
    redelivered: int = 0


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power loss
    finally:
        os.close(fd)


def _land(folder: Path, name: str, payloads: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp, final = folder / f".{name}.tmp", folder / name
    with open(tmp, "wb") as fh:
        fh.write(b"".join(p.rstrip(b"\n") + b"\n" for p in payloads))
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, final)  # same folder: atomic; the landing glob never matches the dot-name
    _fsync_dir(folder)


class _Journal:
    """Landed events by batch: file name, keys, keys not acked yet, time of the ack."""

    def __init__(self, path: Path, folder: Path) -> None:
        self.path = path
        entries = json.loads(path.read_text()) if path.exists() else []
        # An entry whose file does not exist never landed: its events land when redelivered.
        now = time.time()
        self.entries = [e for e in entries if (folder / e["file"]).exists()
                        and (e.get("acked") or now - e["at"] < KEEP_UNACKED_S)]  # fmt: skip
        self.landed = {k for e in self.entries for k in e["keys"]}

    def add(self, name: str, keys: list[str]) -> None:
        self.entries.append({"file": name, "keys": keys, "unacked": keys, "at": time.time()})
        self.landed.update(keys)
        self.save()

    def acked(self, keys: set[str]) -> None:
        """Record that the broker confirmed the acks of ``keys``; forget what is old enough."""
        now = time.time()
        for entry in self.entries:
            left = [k for k in entry.get("unacked", entry["keys"]) if k not in keys]
            entry["unacked"] = left
            if not left:
                entry.setdefault("acked", now)
        kept, count = [], 0
        for entry in reversed(self.entries):  # newest first
            acked = entry.get("acked")
            count += len(entry["keys"]) if acked else 0
            if not acked or (now - acked < KEEP_ACKED_S and count <= KEEP_ACKED_EVENTS):
                kept.append(entry)
        self.entries = kept[::-1]
        self.landed = {k for e in self.entries for k in e["keys"]}
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(self.path, self.entries)


def _fresh(batch: list[Delivery], landed: set[str]) -> list[Delivery]:
    """The deliveries not landed yet, each key once (the first delivery of it)."""
    seen, fresh = set(landed), []
    for d in batch:
        if d.key not in seen:
            seen.add(d.key)
            fresh.append(d)
    return fresh


def land_feed(consumer: Consumer, folder: Path, prefix: str, journal: Path,
              max_events: int = 50_000, wait_s: float = 0.5) -> Landed:  # fmt: skip
    """Fetch what the bus holds for a feed (up to ``max_events``) and land it in ``folder``.

    Args:
        consumer: The feed's durable consumer.
        folder: The landing folder; files are ``<prefix>-<UTC stamp>-bus-<pid>-<seq>.jsonl``.
        prefix: File name prefix (the landing input's glob matches it).
        journal: Where landed-but-unacked batches are remembered (one file per consumer).
        max_events: Stop after this many events (the rest wait for the next call).
        wait_s: How long to wait for a first event.

    Raises:
        BusUnavailable: the broker is unreachable; what was landed stays landed.
    """
    done, log = Landed(), _Journal(journal, folder)
    while done.events + done.redelivered < max_events:
        batch = _gather(consumer, min(FILE_EVENTS, max_events - done.events), wait_s)
        if not batch:
            break
        fresh = _fresh(batch, log.landed)
        if fresh:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{prefix}-{stamp}-bus-{os.getpid()}-{next(_seq):06d}.jsonl"
            log.add(name, [d.key for d in fresh])  # before the rename: a landed file is known
            _land(folder, name, [d.payload for d in fresh])
            done.files += 1
        consumer.ack(batch)
        log.acked({d.key for d in batch})
        done.events += len(fresh)
        done.redelivered += len(batch) - len(fresh)
        wait_s = 0.0  # the first fetch waited; later ones only take what is there
    return done


def _gather(consumer: Consumer, most: int, wait_s: float) -> list[Delivery]:
    """Up to ``most`` deliveries for one file: fetched until the consumer has no more now."""
    batch = consumer.fetch(most, wait_s)
    while batch and len(batch) < most and (more := consumer.fetch(most - len(batch), 0.0)):
        batch += more
    return batch
