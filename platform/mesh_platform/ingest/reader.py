"""Open a landed file in DuckDB as text columns; an unreadable file is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import duckdb

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".json": "json"}


class UnreadableFile(Exception):
    """The file cannot be read at all (empty, truncated, wrong encoding, malformed)."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def file_format(path: Path) -> str:
    """csv, parquet or json, from the file's extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(path, f"unknown file type '{path.suffix}'") from None


def _reader_sql(path: Path, fmt: str, columns: list[str]) -> str:
    quoted = str(path).replace("'", "''")
    if fmt == "csv":
        # Every value as text: a bad value becomes one quarantined row, not a failed file.
        return f"read_csv('{quoted}', header = true, all_varchar = true, auto_detect = true)"
    if fmt == "json":
        struct = ", ".join(f"{c!r}: 'VARCHAR'" for c in columns)
        return f"read_json('{quoted}', format = 'newline_delimited', columns = {{{struct}}})"
    return f"read_parquet('{quoted}')"


def load_landed(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], table: str) -> int:
    """Read one landed file into a temp table of text columns.

    Args:
        con: the ingesting domain's connection.
        path: the landed file.
        columns: the source contract's columns (the shape the file must have).
        table: name of the temp table to create.

    Returns:
        Rows read.

    Raises:
        UnreadableFile: empty, unreadable or malformed file, or columns missing or unexpected.

    """
    if path.stat().st_size == 0:
        raise UnreadableFile(path, "empty file (0 bytes)")
    fmt = file_format(path)
    try:
        source = _reader_sql(path, fmt, columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {source}")
    except duckdb.Error as exc:
        raise UnreadableFile(path, f"cannot read {fmt}: {str(exc).splitlines()[0]}") from None
    found = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    missing = [c for c in columns if c not in found]
    extra = [c for c in found if c not in columns]
    if missing or extra:
        parts = [f"missing column(s) {', '.join(missing)}" if missing else "",
                 f"unexpected column(s) {', '.join(extra)}" if extra else ""]  # fmt: skip
        raise UnreadableFile(path, "; ".join(p for p in parts if p) + " (source contract)")
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise UnreadableFile(path, "empty file (no data rows)")
    return rows
