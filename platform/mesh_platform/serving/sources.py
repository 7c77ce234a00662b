"""What an index is built from: each served port's snapshot and exact files, and a cheap poll."""

from __future__ import annotations

from pathlib import Path

from mesh_platform.ml import registry
from mesh_platform.ports.lakehouse import load, table_version
from mesh_platform.ports.refs import PortRef
from mesh_platform.ports.tables import snapshot_files
from mesh_platform.serving.config import ServedPorts
from mesh_platform.settings import MeshPaths


def registry_champion(paths: MeshPaths, served: ServedPorts) -> int | None:
    """The served model's champion version in the registry, or None (none, or unreadable)."""
    try:
        return registry.aliases(paths.registry, served.model_name)["champion"]
    except (OSError, ValueError, KeyError):
        return None


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def poll_key(paths: MeshPaths, served: ServedPorts) -> tuple[str | None, ...]:
    """What the watcher compares every poll: each port's table version, and the champion.

    It changes on every commit (an expiry too), so a change only means "resolve again".
    """
    versions = tuple(table_version(paths.home, r) for r in served.refs())
    return (*versions, _text(registry_champion(paths, served)))


def current_id(home: Path, ref: PortRef | None) -> str | None:
    """The id of the port's current snapshot, or None (not served, or never published)."""
    table = load(home, ref) if ref is not None else None
    snap = table.current_snapshot() if table is not None else None
    return None if snap is None else str(snap.snapshot_id)


def source_key(paths: MeshPaths, served: ServedPorts) -> tuple[str | None, ...]:
    """What an index is built from: each port's current snapshot id, and the champion."""
    snaps = tuple(current_id(paths.home, r) for r in served.refs())
    return (*snaps, _text(registry_champion(paths, served)))


def scan(con, home: Path, ref: PortRef | None, snapshot_id: str) -> str:
    """A FROM clause reading exactly the data files of one snapshot of a port.

    Never the table's current state: the pointer may move while the index is built.

    Args:
        con: The DuckDB connection the clause is used on.
        home: The mesh home.
        ref: The port major.
        snapshot_id: The snapshot resolved for this index.

    Returns:
        ``read_parquet([...], union_by_name=true)``, or an empty relation of the snapshot's
        schema when it has no data file (an empty publish).
    """
    assert ref is not None
    _, files = snapshot_files(home, ref, snapshot_id)
    if files:
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return f"read_parquet([{listed}], union_by_name=true)"
    table = load(home, ref)
    assert table is not None  # snapshot_files found it
    snap = table.snapshot_by_id(int(snapshot_id))
    schema = table.schemas().get(snap.schema_id) if snap and snap.schema_id is not None else None
    name = f"empty_{ref.domain}_{ref.product}_v{ref.version}"
    con.register(name, (schema or table.schema()).as_arrow().empty_table())
    return '"' + name.replace('"', '""') + '"'
