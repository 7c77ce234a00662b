"""Snapshot expiry of a port's table: keep the newest publishes, then drop files nobody reads."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pyarrow import fs as pafs
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Snapshot

from mesh_platform.ports.lakehouse import load
from mesh_platform.ports.refs import ROWS, PortRef

KEEP_PUBLISHES = 5  # publishes a port keeps for time travel and for runs still reading them
GRACE_SECONDS = 3600.0  # an unreferenced data file younger than this may be a run's pin


def keep_publishes() -> int:
    """How many publishes each port keeps (``MESH_PORT_KEEP_PUBLISHES``, default 5)."""
    return max(1, int(os.environ.get("MESH_PORT_KEEP_PUBLISHES") or KEEP_PUBLISHES))


def expire(
    home: Path, ref: PortRef, keep: int | None = None, grace: float = GRACE_SECONDS
) -> list[int]:
    """Expire a port's snapshots older than its newest ``keep`` publishes, then their files.

    A publish over a non-empty table commits two snapshots (a delete, then the append that
    carries ``mesh.rows``); ``keep`` counts publishes. Expired snapshots leave the metadata at
    once; their data files are deleted only once older than ``grace`` seconds, so a run that
    pinned an older snapshot at its start still reads it. Files a killed publish left behind
    (referenced by no snapshot) go the same way.

    Args:
        home: The mesh home.
        ref: The port major.
        keep: Publishes to keep (default: :func:`keep_publishes`).
        grace: Minimum age in seconds of a data file before it is deleted.

    Returns:
        The ids of the snapshots expired now.
    """
    table = load(home, ref)
    if table is None:
        return []
    snaps = sorted(table.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number or 0))
    publishes = [s for s in snaps if _is_publish(s)]
    kept = publishes[-(keep or keep_publishes()) :]
    protected = {r.snapshot_id for r in table.metadata.refs.values()}
    first = snaps.index(kept[0]) if kept else 0
    old = [s.snapshot_id for s in snaps[:first] if s.snapshot_id not in protected]
    if old:
        table.maintenance.expire_snapshots().by_ids(old).commit()
        table = table.refresh()
    _delete_unreferenced(table, grace)
    return old


def _is_publish(snap: Snapshot) -> bool:
    """The append that carries the rows (an overwrite's delete carries the same properties)."""
    summary = snap.summary
    return (
        summary is not None
        and summary.operation == Operation.APPEND
        and ROWS in summary.additional_properties
    )


def _delete_unreferenced(table: Table, grace: float) -> None:
    """Delete data files under the table's ``data/`` that no live snapshot lists."""
    live = {
        task.file.file_path
        for snap in table.snapshots()
        for task in table.scan(snapshot_id=snap.snapshot_id).plan_files()
    }
    io = table.io if isinstance(table.io, PyArrowFileIO) else PyArrowFileIO(table.properties)
    scheme, netloc, path = PyArrowFileIO.parse_location(f"{table.location()}/data")
    filesystem = io.fs_by_scheme(scheme, netloc)
    selector = pafs.FileSelector(path, allow_not_found=True, recursive=True)
    prefix = "file://" if scheme == "file" else f"{scheme}://"
    cutoff = time.time() - grace
    for info in filesystem.get_file_info(selector):
        if info.type != pafs.FileType.File or info.mtime is None:
            continue
        location = f"{prefix}{info.path}"
        if location not in live and info.path not in live and info.mtime.timestamp() < cutoff:
            filesystem.delete_file(info.path)
