"""Session journal: shares session interest between worker processes (``--workers`` > 1).

Each worker appends the interest its events produced to a per-minute file with one
``O_APPEND`` write per batch, and tails the files every ``TAIL_INTERVAL_S`` to apply the other
workers' lines. An entity's next request is re-ranked on whichever worker it reaches within
about that interval. Files older than the session TTL are deleted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mesh_platform.serving.index import dumps

JOURNAL_ENV = "MESH_SERVE_JOURNAL"
TAIL_INTERVAL_S = 0.2
BUCKET_S = 60

Entry = tuple[int, str, float, float]  # entity, group, weight, epoch seconds


class SessionJournal:
    """Append-only, per-minute files of (entity, group, weight, time) from all workers."""

    def __init__(self, folder: Path, ttl_s: float) -> None:
        """Share through ``folder``; keep files for ``ttl_s`` seconds."""
        self.folder, self.ttl_s, self.pid = Path(folder), ttl_s, os.getpid()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._offsets: dict[str, int] = {}

    def _bucket(self, now: float) -> Path:
        return self.folder / f"{int(now // BUCKET_S)}.jsonl"

    def write(self, entries: list[Entry]) -> None:
        """Append one line for a batch (a single write: lines of workers never interleave)."""
        if not entries:
            return
        line = dumps({"pid": self.pid, "e": entries}) + b"\n"
        fd = os.open(self._bucket(time.time()), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def tail(self) -> list[Entry]:
        """Entries other workers appended since the last call (complete lines only)."""
        now, found = time.time(), []
        oldest = int((now - self.ttl_s) // BUCKET_S)
        for path in sorted(self.folder.glob("*.jsonl")):
            if int(path.stem) < oldest:
                path.unlink(missing_ok=True)  # any worker may prune; the others skip it
                self._offsets.pop(path.name, None)
                continue
            found += self._read_new(path)
        return found

    def _read_new(self, path: Path) -> list[Entry]:
        start = self._offsets.get(path.name, 0)
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                data = fh.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offsets[path.name] = start + len(complete)
        entries: list[Entry] = []
        for line in complete.splitlines():
            record = json.loads(line)
            if record["pid"] != self.pid:
                entries += [tuple(e) for e in record["e"]]  # type: ignore[misc]
        return entries
