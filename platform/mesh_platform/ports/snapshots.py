"""Output ports: immutable Parquet snapshots, published write-audit-publish; the domains' only door.

Layout of one port: ``<lake>/<domain>/<product>/v<major>/``
  ``snapshots/<id>/part-*.parquet`` + ``_snapshot.json``  immutable snapshots
  ``current`` -> ``snapshots/<id>``                      the pointer consumers follow
  ``_staging/<id>/``                                      candidates being written or audited
  ``_rejected/<id>/``                                     candidates that failed their audit
The pointer is a relative symlink swapped with ``os.replace``: one atomic rename, so a reader
sees the old snapshot or the new one, never a mix, and a failure before the swap changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

if TYPE_CHECKING:
    from mesh_platform.descriptors.models import OutputPort

CURRENT = "current"
SNAPSHOT_META = "_snapshot.json"
KEEP_SNAPSHOTS = 5


@dataclass(frozen=True)
class PortRef:
    """Names one major version of one output port."""

    domain: str
    product: str
    version: int = 1

    @property
    def relative_dir(self) -> str:
        """Path of the port below the lake root (also its OpenLineage dataset name)."""
        return f"{self.domain}/{self.product}/v{self.version}"

    @property
    def current_glob(self) -> str:
        """What a consumer reads, relative to MESH_HOME: the current snapshot's Parquet files."""
        return f"lake/{self.relative_dir}/{CURRENT}/*.parquet"


@dataclass(frozen=True)
class Snapshot:
    """Metadata of one published snapshot, stored beside its data as _snapshot.json."""

    domain: str
    product: str
    version: int
    snapshot_id: str
    path: str
    rows: int
    published_at: str
    run_id: str | None = None


class AuditFailed(Exception):
    """The candidate snapshot failed its audit and was not published."""

    def __init__(self, ref: PortRef, reason: str, kept_at: Path):
        self.ref, self.reason, self.kept_at = ref, reason, kept_at
        super().__init__(
            f"{ref.relative_dir}: not published: {reason} (candidate kept at {kept_at})"
        )


def retired(port: OutputPort, today: date | None = None) -> bool:
    """True once the port major's deprecation date has passed: it is no longer published.

    The deprecation date itself is the last day it is published.
    """
    return port.deprecation_date is not None and (today or date.today()) > port.deprecation_date


def port_dir(lake: Path, ref: PortRef) -> Path:
    """Folder of one port version."""
    return Path(lake) / ref.relative_dir


def new_snapshot_id() -> str:
    """Sortable, unique snapshot id: UTC timestamp plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def count_rows(folder: Path) -> int:
    """Rows in the Parquet files of a folder, read from the footers only."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet")))


def publish(
    lake: Path,
    ref: PortRef,
    write: Callable[[Path], None],
    audit: Callable[[Path], str | None] | None = None,
    run_id: str | None = None,
) -> Snapshot:
    """Write a candidate snapshot, audit it, and only then make it current.

    Args:
        lake: root of the lake.
        ref: the port to publish.
        write: writes the candidate's Parquet file(s) into the folder it is given.
        audit: returns None when the candidate may be published, else the reason it may not.
        run_id: the producing run, recorded with the snapshot.

    Returns:
        The published snapshot.

    Raises:
        AuditFailed: the audit refused the candidate; the current snapshot is untouched.

    """
    base = port_dir(lake, ref)
    snapshot_id = new_snapshot_id()
    staging = base / "_staging" / snapshot_id
    staging.mkdir(parents=True)
    try:
        write(staging)
        reason = audit(staging) if audit else None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if reason is not None:
        kept = _reject(base, staging, reason)
        raise AuditFailed(ref, reason, kept)
    final = base / "snapshots" / snapshot_id
    snapshot = Snapshot(ref.domain, ref.product, ref.version, snapshot_id, str(final),
                        count_rows(staging), datetime.now(UTC).isoformat(), run_id)  # fmt: skip
    (staging / SNAPSHOT_META).write_text(json.dumps(asdict(snapshot), indent=2))
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(
        staging, final
    )  # same filesystem: atomic, and the snapshot is complete before it is visible
    _switch_current(base, snapshot_id)
    _prune(base)
    return snapshot


def _reject(base: Path, staging: Path, reason: str) -> Path:
    kept = base / "_rejected" / staging.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, kept)
    (kept / "_reason.txt").write_text(reason + "\n")
    return kept


def _switch_current(base: Path, snapshot_id: str) -> None:
    tmp = base / f".{CURRENT}.{snapshot_id}"
    os.symlink(Path("snapshots") / snapshot_id, tmp)
    os.replace(tmp, base / CURRENT)  # rename(2) over the old link: the atomic commit point


def _prune(base: Path, keep: int = KEEP_SNAPSHOTS) -> None:
    """Drop old snapshots beyond ``keep``, never the current one."""
    current = os.readlink(base / CURRENT)
    snapshots = sorted((base / "snapshots").iterdir())
    for old in snapshots[:-keep]:
        if Path(current).name != old.name:
            shutil.rmtree(old, ignore_errors=True)


def current_snapshot(lake: Path, ref: PortRef) -> Snapshot | None:
    """The snapshot a consumer reads now, or None when the port was never published."""
    pointer = port_dir(lake, ref) / CURRENT
    if not pointer.exists():
        return None
    meta = json.loads((pointer.resolve() / SNAPSHOT_META).read_text())
    return Snapshot(**meta)


def list_ports(lake: Path) -> list[Snapshot]:
    """The current snapshot of every published port under the lake, sorted by domain and product."""
    found = []
    for pointer in sorted(Path(lake).glob(f"*/*/v*/{CURRENT}")):
        version_dir = pointer.parent
        ref = PortRef(version_dir.parent.parent.name, version_dir.parent.name,
                      int(version_dir.name[1:]))  # fmt: skip
        snap = current_snapshot(lake, ref)
        if snap:
            found.append(snap)
    return found
