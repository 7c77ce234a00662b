"""Events posted to the lineage API: checked for the minimal RunEvent shape, logged once each."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from openlineage.client.serde import Serde

from mesh_platform.lineage.log import EVENTS, append_events, canonical


def event_key(event: dict[str, Any]) -> str:
    """Identity of an event for idempotent ingestion: the hash of its canonical JSON.

    Nulls are dropped first, as the openlineage client drops them before sending, so an event
    logged locally and the same event delivered over HTTP have one key.
    """
    return hashlib.sha256(canonical(Serde.to_dict(event)).encode()).hexdigest()


def problems(event: Any) -> list[str]:
    """What keeps ``event`` from being a minimal OpenLineage RunEvent (empty when none)."""
    if not isinstance(event, dict):
        return ["the body must be one OpenLineage event, a JSON object"]
    found = []
    try:
        datetime.fromisoformat(str(event["eventTime"]))
    except (KeyError, ValueError):
        found.append("eventTime is required, as an ISO 8601 timestamp")
    run, job = event.get("run"), event.get("job")
    try:
        uuid.UUID(str(run["runId"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        found.append("run.runId is required, as a UUID")
    for key in ("namespace", "name"):
        if not isinstance(job, dict) or not isinstance(job.get(key), str) or not job[key]:
            found.append(f"job.{key} is required, as a non-empty string")
    return found


class Ingest:
    """Appends posted events to the local log, each distinct event once."""

    def __init__(self, folder: Path):
        """Index the events already in the log in ``folder``."""
        self.folder = folder
        self._seen: set[str] = set()
        self._offset = 0
        self.received = self.stored = 0  # since start: lets operators and tests see repeats
        self._lock = threading.Lock()
        with self._lock:
            self._catch_up()

    def _catch_up(self) -> None:
        """Index events appended to the log since the last look, by any process."""
        path = self.folder / EVENTS
        if not path.exists():
            return
        if path.stat().st_size < self._offset:  # the log was cut: index it again
            self._seen, self._offset = set(), 0
        with path.open("rb") as fh:
            fh.seek(self._offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                self._offset += len(raw)
                try:
                    self._seen.add(event_key(json.loads(raw)))
                except ValueError:  # a damaged line: `mesh lineage verify` reports it, not us
                    continue

    def add(self, event: dict[str, Any]) -> bool:
        """Log ``event`` unless an identical one is already logged; True if it was stored."""
        key = event_key(event)
        with self._lock:
            self.received += 1
            self._catch_up()
            if key in self._seen:
                return False
            append_events(self.folder, [event])
            self._seen.add(key)
            self.stored += 1
            return True
