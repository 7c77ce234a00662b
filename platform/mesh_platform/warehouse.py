"""Adapter boundary to a domain's private warehouse (DuckDB here; other engines plug in here)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb


class Warehouse(Protocol):
    """What the platform needs from a domain warehouse after dbt has built it."""

    def export_parquet(self, relation: str, folder: Path) -> None:
        """Write a relation as Parquet file(s) into a folder."""
        ...

    def row_counts(self, relations: list[str]) -> dict[str, int]:
        """Rows of each relation."""
        ...


def writer_pool(domain: str) -> str:
    """The Dagster pool of the steps that write a domain's warehouse (one slot: one writer).

    DuckDB lets one process open a file read-write. A run executed in-process runs its steps
    one after another; on workers (the distributed profile), steps with no dependency between
    them (one ingestion per landing feed) would open the file side by side and fail.
    """
    return f"warehouse-{domain}"


MEMORY_LIMIT_ENV = "MESH_DUCKDB_MEMORY_LIMIT"  # the dbt profile reads the same variable


def memory_limit() -> str:
    """DuckDB's memory cap for the platform's own queries (DuckDB's default is 80% of RAM)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or "4GB"


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection under the mesh's memory cap: big sorts and joins spill to disk.

    Args:
        path: the database file; None for an in-memory database.
        read_only: open the file read-only (other processes may read it too).
    """
    con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
    con.execute("SET memory_limit = ?", [memory_limit()])
    return con


class DuckDBWarehouse:
    """A domain's DuckDB file, opened only while no dbt process holds it."""

    def __init__(
        self, path: Path, search_path: Path | None = None, filesystems: Sequence[Any] = ()
    ):
        """Open nothing yet.

        Args:
            path: The DuckDB file.
            search_path: Where relative file paths of its views resolve (MESH_HOME).
            filesystems: fsspec filesystems its views read through (an ``s3://`` port's files).
        """
        self.path = Path(path)
        self.search_path = search_path
        self.filesystems = tuple(filesystems)

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        con = connect(self.path, read_only=read_only)
        for fs in self.filesystems:  # a view over the port views reads the ports' files
            con.register_filesystem(fs)
        if self.search_path is not None:
            # A view stores its query: one reading a port or landing file by a path relative to
            # MESH_HOME (dbt's profile sets the same search path) resolves it when queried.
            con.execute("SET file_search_path = ?", [str(self.search_path)])
        return con

    @contextmanager
    def reading(
        self, attempts: int = 20, wait_s: float = 0.5
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, retried while another process holds the file for writing.

        DuckDB lets one process write a file and then nobody else open it, and a reader in turn
        keeps writers out: hold the connection briefly (copy what is needed out, then close).

        Args:
            attempts: How many times to try to open the file.
            wait_s: Pause between attempts, in seconds.

        Yields:
            The connection, closed on exit.

        Raises:
            duckdb.IOException: The file stayed locked (or does not exist) after every attempt.
        """
        for attempt in range(attempts):
            try:
                con = self._connect(read_only=True)
                con.execute("SET enable_progress_bar = false")  # no bars in the step's log
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or attempt == attempts - 1:
                    raise
                time.sleep(wait_s)
        try:
            yield con  # pyright: ignore[reportPossiblyUnboundVariable]
        finally:
            con.close()  # pyright: ignore[reportPossiblyUnboundVariable]

    def export_parquet(self, relation: str, folder: Path) -> None:
        """COPY a relation to ``folder/part-0.parquet`` (zstd)."""
        target = Path(folder) / "part-0.parquet"
        with self._connect() as con:
            con.execute(
                f"COPY (SELECT * FROM {relation}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
            )

    def row_counts(self, relations: list[str]) -> dict[str, int]:
        """Count rows of each relation in one connection."""
        counts: dict[str, int] = {}
        with self._connect() as con:
            for rel in relations:
                row = con.execute(f"SELECT count(*) FROM {rel}").fetchone()
                counts[rel] = int(row[0]) if row else 0
        return counts


def duckdb_schema(path: Path) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """Map catalog -> schema -> table -> column -> type of a DuckDB file (for SQL lineage)."""
    found: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_catalog, table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns"
        ).fetchall()
    for catalog, schema, table, column, dtype in rows:
        found.setdefault(catalog, {}).setdefault(schema, {}).setdefault(table, {})[column] = dtype
    return found
