"""A run's pinned input ports: each port's snapshot resolved once, read by every step of the run.

The first step of a run that reads a port resolves its current snapshot and data files and
records them in ``<MESH_HOME>/pins/<run_id>.json``; every later step of the same run reads the
record, so a producer publishing mid-run changes nothing for the run.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from mesh_platform.ports.refs import PortRef
from mesh_platform.ports.tables import snapshot_files


@dataclass(frozen=True)
class Pin:
    """The snapshot of one input port a run reads, and its exact data files."""

    port: str
    snapshot_id: str
    files: tuple[str, ...]


def _key(ref: PortRef) -> str:
    return ref.table


def pin_inputs(home: Path, run_id: str, refs: Iterable[PortRef]) -> dict[PortRef, Pin]:
    """The pinned snapshot of each port a run reads, resolving the ones not pinned yet.

    Args:
        home: The mesh home.
        run_id: The consumer's run.
        refs: The input ports to read.

    Returns:
        ``ref -> Pin`` for every port published so far (a never-published port is left out).
    """
    wanted = list(refs)
    record = Path(home) / "pins" / f"{run_id}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two steps of one run pin the same snapshots
        known = json.loads(record.read_text()) if record.exists() else {}
        missing = [r for r in wanted if _key(r) not in known]
        for ref in missing:
            try:
                snapshot_id, files = snapshot_files(home, ref)
            except LookupError:
                continue
            known[_key(ref)] = asdict(Pin(ref.table, snapshot_id, tuple(files)))
        if missing:
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps(known, indent=1, sort_keys=True))
            os.replace(tmp, record)
    return {r: _pin(known[_key(r)]) for r in wanted if _key(r) in known}


def _pin(raw: dict) -> Pin:
    return Pin(raw["port"], raw["snapshot_id"], tuple(raw["files"]))


def read_pins(home: Path, run_id: str) -> dict[str, Pin]:
    """What a run pinned (``<domain>.<product>_v<major>`` -> Pin); empty when it read no port."""
    record = Path(home) / "pins" / f"{run_id}.json"
    raw = json.loads(record.read_text()) if record.exists() else {}
    return {k: _pin(v) for k, v in raw.items()}
