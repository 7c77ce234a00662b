"""Output ports as Apache Iceberg tables: write-audit-publish, pinned reads, snapshot expiry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import DataScan, Table

from mesh_platform.ports.snapshots import PortRef

CATALOG_NAME = "mesh"
Audit = Callable[[pa.Table], None]


def catalog(home: Path) -> SqlCatalog:
    """Open the mesh's embedded Iceberg catalog: SQLite under MESH_HOME, warehouse in its lake.

    The catalog lives at ``<home>/iceberg/catalog.db`` and table data and metadata below
    ``file://<home>/lake``. Pointing a mesh elsewhere is a matter of configuration, not code
    (not implemented here): a PostgreSQL-backed SQL catalog is the same ``SqlCatalog`` with
    ``uri="postgresql+psycopg2://..."``; a REST catalog is ``pyiceberg.catalog.rest.RestCatalog``
    with its ``uri``; an S3 warehouse is ``warehouse="s3://bucket/lake"`` plus the ``s3.*``
    FileIO properties (endpoint, keys, region).

    Args:
        home: The mesh home (MESH_HOME).

    Returns:
        The catalog; its SQL tables are created on first use.
    """
    (home / "iceberg").mkdir(parents=True, exist_ok=True)
    (home / "lake").mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        CATALOG_NAME,
        uri=f"sqlite:///{(home / 'iceberg' / 'catalog.db').resolve()}",
        warehouse=f"file://{(home / 'lake').resolve()}",  # not as_uri(): pyiceberg does not unquote
    )


def table_identifier(domain: str, product: str, major: int) -> tuple[str, str]:
    """The Iceberg identifier of one port major: namespace = domain, table = product_v<major>.

    Args:
        domain: The producing domain.
        product: The data product (port) name.
        major: The contract's major version.

    Returns:
        ``(namespace, table)``, e.g. ``("sales", "orders_v1")``.
    """
    return (domain, f"{product}_v{major}")


def _identifier(ref: PortRef) -> tuple[str, str]:
    return table_identifier(ref.domain, ref.product, ref.version)


def load(home: Path, ref: PortRef) -> Table:
    """Load a port's Iceberg table.

    Args:
        home: The mesh home.
        ref: The port major.

    Returns:
        The table (raises ``NoSuchTableError`` when never published).
    """
    return catalog(home).load_table(_identifier(ref))


def _ensure_table(home: Path, ref: PortRef, schema: pa.Schema) -> Table:
    cat = catalog(home)
    try:  # not create_table_if_not_exists: it writes a metadata file before finding the table
        return cat.load_table(_identifier(ref))
    except NoSuchTableError:
        cat.create_namespace_if_not_exists(ref.domain)
        return cat.create_table(_identifier(ref), schema=schema)


def publish(
    home: Path,
    ref: PortRef,
    table: pa.Table,
    audit: Audit | None,
    summary: dict[str, str],
) -> int:
    """Write-audit-publish a port's new contents as one atomic catalog commit.

    The overwrite is staged in a transaction: pyiceberg writes the Parquet data files, manifests
    and manifest list when ``overwrite`` is staged, before any catalog commit. The audit then
    reads back exactly the staged snapshot's files (a scan of the transaction's metadata); only
    if it passes is the transaction committed. An audit that raises, or a kill -9 at any moment
    before the commit, leaves the table at its previous snapshot; the files written so far are
    orphans, referenced by no snapshot.

    Args:
        home: The mesh home.
        ref: The port major.
        table: The candidate contents.
        audit: Called with the staged candidate as read back from its data files; raises to
            refuse it. None publishes without an audit.
        summary: Properties for the snapshot summary (run id, contract id and version...);
            the row count is added as ``mesh.rows``.

    Returns:
        The id of the snapshot that is now current.
    """
    ice = _ensure_table(home, ref, table.schema)
    props = {**summary, "mesh.rows": str(table.num_rows)}
    tx = ice.transaction()
    if ice.current_snapshot() is None:
        tx.append(table, snapshot_properties=props)
    else:
        tx.overwrite(table, snapshot_properties=props)
    if audit is not None:
        audit(DataScan(table_metadata=tx.table_metadata, io=ice.io).to_arrow())
    committed = tx.commit_transaction()
    snapshot = committed.current_snapshot()
    assert snapshot is not None
    return snapshot.snapshot_id


def _local(path: str) -> str:
    return path.removeprefix("file://")


def pinned_files(home: Path, ref: PortRef, snapshot_id: int | None = None) -> tuple[int, list[str]]:
    """Resolve a snapshot of a port to the exact Parquet files a reader must read.

    Args:
        home: The mesh home.
        ref: The port major.
        snapshot_id: The snapshot to pin; None pins the current one.

    Returns:
        ``(snapshot_id, paths)``: local paths for a ``file://`` warehouse, URIs otherwise.

    Raises:
        LookupError: The table has no such snapshot (or none at all).
        ValueError: The snapshot has delete files, so its data files alone are not its rows.
    """
    ice = load(home, ref)
    snap = ice.snapshot_by_id(snapshot_id) if snapshot_id is not None else ice.current_snapshot()
    if snap is None:
        raise LookupError(f"{_identifier(ref)}: no snapshot {snapshot_id or '(current)'}")
    tasks = list(ice.scan(snapshot_id=snap.snapshot_id).plan_files())
    if any(task.delete_files for task in tasks):
        raise ValueError(f"{_identifier(ref)}@{snap.snapshot_id}: has delete files")
    return snap.snapshot_id, [_local(task.file.file_path) for task in tasks]


def expire(home: Path, ref: PortRef, keep: int) -> list[int]:
    """Expire a port's old snapshots, keeping the newest ``keep`` publishes and all after them.

    A publish over a non-empty table commits two snapshots at once (a delete, then the append
    that is the publish); ``keep`` counts publishes. Expiry only removes snapshots from the
    table's metadata: pyiceberg deletes no files, so a run that pinned an expired snapshot's
    files still reads them.

    Args:
        home: The mesh home.
        ref: The port major.
        keep: How many publishes to keep (at least 1).

    Returns:
        The ids of the expired snapshots.
    """
    ice = load(home, ref)
    snaps = sorted(ice.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number or 0))
    publishes = [
        s for s in snaps if s.summary is not None and s.summary.operation.value == "append"
    ]
    kept = publishes[-max(keep, 1) :]
    if not kept:
        return []
    first_kept = snaps.index(kept[0])
    protected = {r.snapshot_id for r in ice.metadata.refs.values()}
    old = [s.snapshot_id for s in snaps[:first_kept] if s.snapshot_id not in protected]
    if old:
        ice.maintenance.expire_snapshots().by_ids(old).commit()
    return old
