"""Output ports as Iceberg tables: write-audit-publish, the current snapshot, and expiry.

A port major is the table ``<domain>.<product>_v<major>`` located at
``<warehouse>/<domain>/<product>/v<major>``. A candidate is written and audited in a local
staging folder; only if the audit passes do its files (or its rows, rewritten: see
:mod:`mesh_platform.ports.commit`) become the table's data files, in one catalog commit that is
the atomic switch. A kill -9 at any moment before that
commit leaves the table at its previous snapshot (files written so far are orphans, removed by
:func:`expire` once old enough). A refused candidate never becomes a snapshot: it is kept,
with its reason, under ``<MESH_HOME>/rejected``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from pyiceberg.table import Table

from mesh_platform.ports.commit import Column, commit
from mesh_platform.ports.expiry import expire
from mesh_platform.ports.lakehouse import catalog, load, local_path
from mesh_platform.ports.refs import ROWS, AuditFailed, PortRef, Snapshot
from mesh_platform.ports.store_errors import reads_store, reporting

RUN_ID = "mesh.run-id"


def publish(
    home: Path,
    ref: PortRef,
    write: Callable[[Path], None],
    audit: Callable[[Path], str | None] | None = None,
    run_id: str | None = None,
    columns: Mapping[str, Column] | None = None,
    summary: Mapping[str, str] | None = None,
) -> Snapshot:
    """Write a candidate, audit it, and only then commit it as the port's current snapshot.

    Args:
        home: The mesh home (MESH_HOME).
        ref: The port major to publish.
        write: Writes the candidate's Parquet file(s) into the local folder it is given.
        audit: Returns None when the candidate may be published, else the reason it may not.
        run_id: The producing run, recorded in the snapshot summary.
        columns: The contract's columns: ``name -> (required, doc)`` for the table schema.
        summary: More snapshot summary properties (the contract's id and version...).

    Returns:
        The published snapshot.

    Raises:
        AuditFailed: The audit refused the candidate; the table is untouched.
        WarehouseUnavailable: The warehouse's object store failed; says whether the table
            kept its previous snapshot.
    """
    staging = Path(home) / "staging" / ref.relative_dir / uuid.uuid4().hex
    staging.mkdir(parents=True)
    try:
        write(staging)
        reason = audit(staging) if audit else None
        if reason is not None:
            raise AuditFailed(ref, reason, _reject(Path(home), ref, staging, reason))
        files = sorted(staging.glob("*.parquet"))
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)  # footers only
        props = {**(summary or {}), ROWS: str(rows)}
        if run_id:
            props[RUN_ID] = run_id
        with reporting(home, ref):  # an object store's failure names its endpoint
            table = commit(home, ref, files, columns or {}, props)
            expire(home, ref)
            return _snapshot(ref, table, table.current_snapshot())
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _reject(home: Path, ref: PortRef, staging: Path, reason: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = home / "rejected" / ref.relative_dir / f"{stamp}-{staging.name[:6]}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(staging, kept)
    (kept / "_reason.txt").write_text(reason + "\n")
    return kept


def _snapshot(ref: PortRef, table: Table, snap) -> Snapshot:
    summary = snap.summary.additional_properties if snap.summary else {}
    rows = summary.get(ROWS) or summary.get("total-records") or "0"
    published = datetime.fromtimestamp(snap.timestamp_ms / 1000, UTC).isoformat()
    files = tuple(
        local_path(t.file.file_path) for t in table.scan(snapshot_id=snap.snapshot_id).plan_files()
    )
    return Snapshot(ref.domain, ref.product, ref.version, str(snap.snapshot_id),
                    local_path(table.location()), int(rows), published, summary.get(RUN_ID),
                    ref.table, files)  # fmt: skip


@reads_store
def current_snapshot(home: Path, ref: PortRef) -> Snapshot | None:
    """The snapshot a consumer reads now, or None when the port was never published."""
    table = load(home, ref)
    snap = table.current_snapshot() if table is not None else None
    return _snapshot(ref, table, snap) if table is not None and snap is not None else None


@reads_store
def snapshot_files(
    home: Path, ref: PortRef, snapshot_id: str | None = None
) -> tuple[str, list[str]]:
    """The exact data files of a port's snapshot (default: the current one).

    Args:
        home: The mesh home.
        ref: The port major.
        snapshot_id: The snapshot to read; None resolves the current one.

    Returns:
        ``(snapshot_id, files)``: local paths for a ``file://`` warehouse, URIs otherwise.

    Raises:
        LookupError: The port has no such snapshot (or was never published).
    """
    table = load(home, ref)
    snap = None
    if table is not None:
        snap = (
            table.current_snapshot()
            if snapshot_id is None
            else table.snapshot_by_id(int(snapshot_id))
        )
    if table is None or snap is None:
        raise LookupError(f"{ref.table}: no snapshot {snapshot_id or '(never published)'}")
    tasks = table.scan(snapshot_id=snap.snapshot_id).plan_files()
    return str(snap.snapshot_id), [local_path(t.file.file_path) for t in tasks]


@reads_store
def list_ports(home: Path) -> list[Snapshot]:
    """The current snapshot of every published port in the catalog, by domain and product."""
    cat, found = catalog(home), []
    for (namespace,) in sorted(cat.list_namespaces()):
        for identifier in sorted(cat.list_tables(namespace)):
            product, _, major = identifier[-1].rpartition("_v")
            if product and major.isdigit():
                snap = current_snapshot(home, PortRef(namespace, product, int(major)))
                found += [snap] if snap else []
    return found
