"""The catalog commit of an audited candidate: its files registered as they are, or rewritten.

Registering the staged Parquet files (``add_files``) commits exactly the bytes the audit read and
writes nothing again. It applies when the warehouse is local and each file already satisfies
the table's schema: the contract's required columns are required in the file (DuckDB marks a
column required when it can prove it holds no NULL) and the types match. Otherwise, and for a
schema evolution, pyiceberg rewrites the rows as the table's data files (with field ids).
Files registered without field ids are read through the table's name mapping, which
``add_files`` sets, as Iceberg specifies for imported files.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import _check_pyarrow_schema_compatible  # what add_files itself checks
from pyiceberg.table import Table

from mesh_platform.ports.lakehouse import catalog, load, warehouse
from mesh_platform.ports.refs import PortRef

Column = tuple[bool, str | None]  # (required, doc) of a column, from the port's contract
TABLE_PROPERTIES = {  # old metadata files go with their commits, as other engines expect
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "10",
}


def contract_schema(schema: pa.Schema, columns: Mapping[str, Column]) -> pa.Schema:
    """The candidate's schema in the contract's column order, with its required flags and docs."""
    order = {name: i for i, name in enumerate(columns)}
    fields = []
    for field in sorted(schema, key=lambda f: order.get(f.name, len(order))):
        required, doc = columns.get(field.name, (False, None))
        meta = {b"doc": doc.encode()} if doc else None
        fields.append(pa.field(field.name, field.type, nullable=not required, metadata=meta))
    return pa.schema(fields)


def commit(
    home: Path,
    ref: PortRef,
    files: list[Path],
    columns: Mapping[str, Column],
    props: dict[str, str],
) -> Table:
    """Make the audited candidate the table's current snapshot, in one catalog commit.

    Args:
        home: The mesh home.
        ref: The port major.
        files: The candidate's staged, audited Parquet files (moved or read here).
        columns: The contract's columns, ``name -> (required, doc)``.
        props: The snapshot summary properties.

    Returns:
        The table after the commit.
    """
    schema = contract_schema(pa.unify_schemas([pq.read_schema(f) for f in files]), columns)
    table = _table(home, ref, schema)
    new = [name for name in schema.names if name not in {f.name for f in table.schema().fields}]
    if not new and _registrable(table, files):
        return _register(table, files, props)
    rows = pq.read_table([str(f) for f in files]).select(schema.names)  # the contract's order
    data = rows.cast(_conform(schema, table))
    tx = table.transaction()
    if new:  # a non-breaking contract change (an added column): schema evolution
        with tx.update_schema() as update:
            update.union_by_name(data.schema)
    if table.current_snapshot() is None:
        tx.append(data, snapshot_properties=props)
    else:
        tx.overwrite(data, snapshot_properties=props)
    return tx.commit_transaction()


def _table(home: Path, ref: PortRef, schema: pa.Schema) -> Table:
    table = load(home, ref)
    if table is None:
        cat = catalog(home)
        cat.create_namespace_if_not_exists(ref.domain)
        location = f"{warehouse(home)}/{ref.relative_dir}"
        table = cat.create_table(
            ref.identifier, schema=schema, location=location, properties=TABLE_PROPERTIES
        )
    return table


def _conform(schema: pa.Schema, table: Table) -> pa.Schema:
    """Mark the table's required columns required in the rows too (their NULLs were refused)."""
    required = {f.name for f in table.schema().fields if f.required}
    return pa.schema([f.with_nullable(False) if f.name in required else f for f in schema])


def _registrable(table: Table, files: list[Path]) -> bool:
    if not table.location().startswith("file://"):
        return False  # an object store: the rows are written there by pyiceberg, once
    try:
        for file in files:
            _check_pyarrow_schema_compatible(
                table.schema(), pq.read_schema(file), format_version=table.format_version
            )
    except ValueError:
        return False
    return True


def _register(table: Table, files: list[Path], props: dict[str, str]) -> Table:
    """Move the audited files into the table's data folder and add them, replacing its rows."""
    data = Path(table.location().removeprefix("file://")) / "data"
    data.mkdir(parents=True, exist_ok=True)
    moved = []
    for file in files:
        dest = data / f"{uuid.uuid4().hex}-{file.name}"
        shutil.move(file, dest)  # a rename on one filesystem; until the commit, an orphan
        moved.append(f"file://{dest}")
    tx = table.transaction()
    if table.current_snapshot() is not None:
        tx.delete(AlwaysTrue(), snapshot_properties=props)
    tx.add_files(moved, snapshot_properties=props, check_duplicate_files=False)  # fresh names
    return tx.commit_transaction()
