"""Deterministic file writers for the landing zone (CSV, Parquet, JSON lines)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mesh_demo.generate import config as cfg


def write_csv(frame: pd.DataFrame, path: Path) -> int:
    """Write a UTF-8, comma-separated file with a header row.

    Args:
        frame: Rows to write (text columns are written as-is).
        path: Target file; replaced if present.

    Returns:
        Number of data rows written.

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


def write_parquet(table: pa.Table, path: Path) -> int:
    """Write a Parquet file whose bytes depend only on the table's contents.

    Args:
        table: Rows to write.
        path: Target file; replaced if present.

    Returns:
        Number of rows written.

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)
    return table.num_rows


class JsonLinesWriter:
    """Renders compact event tables to JSON lines through DuckDB (fast, order-preserving)."""

    def __init__(self) -> None:
        """Open a private in-memory DuckDB connection."""
        self._con = duckdb.connect()

    def close(self) -> None:
        """Release the DuckDB connection."""
        self._con.close()

    def write_events(self, table: pa.Table, path: Path, tag: str) -> int:
        """Write one month of events as ``web/events_YYYY-MM.jsonl``.

        Args:
            table: Output of ``web.events_table`` (sorted, with ``seq``).
            path: Target file; replaced if present.
            tag: ``YYYYMM`` prefix that makes event and session ids unique across months.

        Returns:
            Number of events written.

        """
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        kinds = "CASE kind WHEN 0 THEN 'view' ELSE 'add_to_cart' END"
        devices = (
            "CASE device "
            + " ".join(f"WHEN {i} THEN '{d}'" for i, d in enumerate(cfg.DEVICES))
            + " END"
        )
        self._con.register("events_batch", table)
        try:
            self._con.execute(
                f"""COPY (
                    SELECT printf('ev-{tag}-%08d', seq) AS event_id,
                           {kinds} AS event_type,
                           customer_id,
                           printf('s-{tag}-%07d', session) AS session_id,
                           product_id,
                           strftime(occurred_at, '%Y-%m-%dT%H:%M:%S') AS occurred_at,
                           {devices} AS device
                    FROM events_batch ORDER BY seq
                ) TO '{path.as_posix()}' (FORMAT json)"""
            )
        finally:
            self._con.unregister("events_batch")
        return table.num_rows
