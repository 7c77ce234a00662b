"""A bounded on-disk outbox: events wait here, in order, until the broker has stored them.

Events are appended to numbered segment files (``key<TAB>payload`` lines) under a folder one
process holds with an exclusive lock; ``cursor.json`` names the first event not yet published
and is replaced atomically after the broker confirmed a batch. So a restart re-sends from the
cursor (the broker drops what it already stored, by key) and nothing is sent out of order.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import IO

from mesh_platform.events.bus import BusMessage

MAX_EVENTS = 200_000  # the landing writer's bound too: past it the API answers 503
MAX_BYTES = 256 * 2**20  # a disk bound too: an event line is ~200 B, one of 1.3 KB hits it first
SEGMENT_EVENTS = 10_000  # a published segment is deleted whole


class OutboxFull(Exception):
    """The outbox holds its maximum: new events are refused, never dropped."""


class OutboxBusy(Exception):
    """Another process holds this outbox."""


@dataclass(frozen=True)
class Batch:
    """Events read from the outbox, and where the cursor goes once they are published."""

    messages: list[BusMessage]
    segment: int
    offset: int
    nbytes: int


def _segment_no(path: Path) -> int:
    return int(path.stem.split("-")[1])


class Outbox:
    """The outbox in ``folder``: append at the end, publish from the cursor, bounded."""

    def __init__(self, folder: Path, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES,
                 segment_events: int = SEGMENT_EVENTS) -> None:  # fmt: skip
        """Open (and lock) ``folder``; events a previous process left are pending again.

        Raises:
            OutboxBusy: another live process holds the folder.
        """
        self.folder, self.max_events, self.max_bytes = Path(folder), max_events, max_bytes
        self.segment_events = segment_events
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fh = open(self.folder / "lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_fh.close()
            raise OutboxBusy(str(self.folder)) from None
        self._lock = Lock()
        cursor = self.folder / "cursor.json"
        saved = json.loads(cursor.read_text()) if cursor.exists() else {}
        segments = self._segments()
        first = segments[0] if segments else 1
        self._cursor = (saved.get("segment", first), saved.get("offset", 0))
        self._tail = max(segments[-1] if segments else 1, self._cursor[0])
        self.pending, self.pending_bytes, self._tail_events = self._count()
        self._writer: IO[bytes] | None = None

    def _segments(self) -> list[int]:
        return sorted(_segment_no(p) for p in self.folder.glob("seg-*.log"))

    def _path(self, segment: int) -> Path:
        return self.folder / f"seg-{segment:012d}.log"

    def _count(self) -> tuple[int, int, int]:
        """(events, bytes) after the cursor, and events in the last segment."""
        events = nbytes = tail = 0
        for segment in self._segments():
            if segment < self._cursor[0]:
                continue
            data = self._path(segment).read_bytes()
            tail = data.count(b"\n")
            if segment == self._cursor[0]:
                data = data[self._cursor[1] :]
            events, nbytes = events + data.count(b"\n"), nbytes + len(data)
        return events, nbytes, tail

    def append(self, messages: Sequence[BusMessage]) -> None:
        """Append ``messages`` (payloads are single lines) after everything pending.

        Raises:
            OutboxFull: the bound of events or bytes would be exceeded.
        """
        data = b"".join(f"{m.key}\t".encode() + m.payload.rstrip(b"\n") + b"\n" for m in messages)
        with self._lock:
            if (self.pending + len(messages) > self.max_events
                    or self.pending_bytes + len(data) > self.max_bytes):  # fmt: skip
                raise OutboxFull(f"{self.pending} events ({self.pending_bytes} bytes) wait in "
                                 f"{self.folder}")  # fmt: skip
            if self._writer is None or self._tail_events >= self.segment_events:
                self._rotate()
            assert self._writer is not None
            self._writer.write(data)
            self._writer.flush()  # in the OS: a crash of this process loses nothing
            self.pending += len(messages)
            self.pending_bytes += len(data)
            self._tail_events += len(messages)

    def _rotate(self) -> None:
        if self._writer is not None:
            os.fsync(self._writer.fileno())
            self._writer.close()
            self._tail, self._tail_events = self._tail + 1, 0
        self._writer = open(self._path(self._tail), "ab")  # noqa: SIM115 - kept open to append

    def sync(self) -> None:
        """Fsync the appended events (each flush cycle: a machine crash loses one at most)."""
        with self._lock:
            if self._writer is not None:
                os.fsync(self._writer.fileno())

    def peek(self, limit: int) -> Batch:
        """Up to ``limit`` events from the cursor, in order (they stay pending until commit)."""
        with self._lock:
            segment, offset = self._cursor
            messages: list[BusMessage] = []
            nbytes = 0
            while len(messages) < limit:
                path = self._path(segment)
                lines = []
                if path.exists():
                    with open(path, "rb") as fh:
                        fh.seek(offset)
                        lines = [ln for ln in fh.readlines() if ln.endswith(b"\n")]
                for line in lines[: limit - len(messages)]:
                    key, _, payload = line.rstrip(b"\n").partition(b"\t")
                    messages.append(BusMessage(key.decode(), payload))
                    offset, nbytes = offset + len(line), nbytes + len(line)
                if len(messages) >= limit or segment >= self._tail:
                    break
                segment, offset = segment + 1, 0
            return Batch(messages, segment, offset, nbytes)

    def commit(self, batch: Batch, published: int) -> None:
        """Move the cursor past the first ``published`` events of ``batch`` (rest: next peek)."""
        if published < len(batch.messages):  # re-read the prefix for its end position
            batch = self.peek(published) if published else Batch([], *self._cursor, 0)
        with self._lock:
            tmp = self.folder / "cursor.json.tmp"
            with open(tmp, "w") as fh:
                json.dump({"segment": batch.segment, "offset": batch.offset}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / "cursor.json")
            self._cursor = (batch.segment, batch.offset)
            self.pending -= len(batch.messages)
            self.pending_bytes -= batch.nbytes
            for segment in self._segments():
                if segment < batch.segment:
                    self._path(segment).unlink(missing_ok=True)

    def close(self) -> None:
        """fsync, close the segment and release the folder's lock."""
        with self._lock:
            if self._writer is not None:
                os.fsync(self._writer.fileno())
                self._writer.close()
                self._writer = None
        self._lock_fh.close()  # closing the file releases the flock


def claim(root: Path, slots: int = 64, **bounds: int) -> Outbox:
    """The first outbox under ``root`` (``0``, ``1``, ...) no live process holds.

    A worker that died left its outbox unlocked: the next one to start takes it over and
    publishes what it holds.

    Raises:
        OutboxBusy: every slot is held.
    """
    for slot in range(slots):
        try:
            return Outbox(root / str(slot), **bounds)
        except OutboxBusy:
            continue
    raise OutboxBusy(f"all {slots} outboxes under {root} are held")
