"""Infer ODCS contracts from what DuckDB itself sees: landed files and built warehouse tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mesh_platform.contracts.types import normalize_type, split_type
from mesh_platform.descriptors.errors import SpecError, SpecErrors

# DuckDB's own readers, so the inferred types are the ones ingestion and dbt will meet.
READERS = {".csv": "read_csv_auto", ".parquet": "read_parquet", ".json": "read_json_auto",
           ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}  # fmt: skip
FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json",
           ".ndjson": "json"}  # fmt: skip
_LOGICAL = {"TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer", "BIGINT": "integer",
            "HUGEINT": "integer", "UTINYINT": "integer", "USMALLINT": "integer",
            "UINTEGER": "integer", "UBIGINT": "integer", "UHUGEINT": "integer",
            "DECIMAL": "number", "DOUBLE": "number", "FLOAT": "number", "DATE": "date",
            "TIMESTAMP": "timestamp", "TIMESTAMPTZ": "timestamp", "TIMESTAMP_S": "timestamp",
            "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp", "TIME": "time",
            "BOOLEAN": "boolean", "STRUCT": "object", "MAP": "object"}  # fmt: skip
# Types a Parquet port cannot hold as they are: DuckDB writes a 128-bit integer as DOUBLE.
PORT_UNSAFE = {"HUGEINT": "BIGINT or DECIMAL(38,0)", "UHUGEINT": "UBIGINT or DECIMAL(38,0)"}
DECIDE = "TODO(decide):"  # what a person must decide; governance fails while it is left


@dataclass(frozen=True)
class Column:
    """One column as DuckDB reports it, and whether the data held a null."""

    name: str
    physical_type: str
    has_nulls: bool

    @property
    def logical_type(self) -> str:
        """The ODCS logicalType of the DuckDB type."""
        return logical_type(self.physical_type)


def logical_type(physical: str) -> str:
    """ODCS logicalType of a DuckDB type: ``DECIMAL(10,2)`` -> number, ``INTEGER[]`` -> array."""
    normal = normalize_type(physical)
    if normal.endswith("]"):
        return "array"
    base = split_type(normal)[0].split("(")[0]
    return _LOGICAL.get(base, "string")


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[Column]:
    """DESCRIBE plus one scan counting the nulls of every column."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    names = [row[0] for row in described]
    counts = ", ".join(f'count(*) - count("{n}")' for n in names) or "0"
    nulls = con.execute(f"SELECT {counts} FROM {relation}").fetchone() or ()
    types = [normalize_type(row[1]) for row in described]
    return [Column(n, t, bool(k)) for n, t, k in zip(names, types, nulls, strict=True)]


def describe_file(path: Path) -> list[Column]:
    """The columns of a CSV, Parquet or JSON(L) file as DuckDB's readers detect them.

    Raises:
        SpecErrors: the file type is unknown or DuckDB cannot read the file (file and reason).
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(READERS)
        raise SpecErrors([SpecError(path, "", f"unknown file type '{path.suffix}' ({known})")])
    if path.is_file() and path.stat().st_size == 0:
        raise SpecErrors([SpecError(path, "", "empty file (0 bytes)")])
    quoted = str(path).replace("'", "''")
    try:
        with duckdb.connect() as con:
            columns = _describe(con, f"{reader}('{quoted}')")
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise SpecErrors([SpecError(path, "", f"DuckDB cannot read it: {reason}")]) from None
    if reader == "read_csv_auto":
        _check_header(path, columns)
    return columns


def _check_header(path: Path, columns: list[Column]) -> None:
    """DuckDB's sniffer reads almost anything: refuse what it could not split into a header."""
    names = [c.name for c in columns]
    if any(sep in n for n in names for sep in ",;|\t"):
        msg = f"DuckDB could not split rows into columns consistently (header read as {names})"
        raise SpecErrors([SpecError(path, "header", msg)])
    if names and all(re.fullmatch(r"column\d+", n) for n in names):
        raise SpecErrors([SpecError(path, "header", "no header row with column names")])


def describe_table(warehouse: Path, table: str) -> list[Column]:
    """The columns of a built table (or view) in a domain's DuckDB file, opened read-only.

    Raises:
        SpecErrors: no warehouse file, or no such table in it.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise SpecErrors([SpecError(warehouse, "", f"'{table}' is not a plain table name")])
    if not Path(warehouse).exists():
        msg = f"no warehouse: build the domain first (`mesh up`) to create {warehouse}"
        raise SpecErrors([SpecError(warehouse, "", msg)])
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            found = con.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
                "ORDER BY table_schema = 'main' DESC LIMIT 1",
                [table],
            ).fetchone()
            columns = _describe(con, f'"{found[0]}"."{table}"') if found else None
    except duckdb.Error as exc:  # e.g. a running build holds the file
        reason = str(exc).splitlines()[0]
        raise SpecErrors([SpecError(warehouse, "", f"cannot open: {reason}")]) from None
    if columns is None:
        msg = f"no table '{table}': build the model first (`mesh up`)"
        raise SpecErrors([SpecError(warehouse, "", msg)])
    return columns


def _property(column: Column, description: str, classification: str) -> dict[str, Any]:
    return {
        "name": column.name,
        "description": description,
        "logicalType": column.logical_type,
        "physicalType": column.physical_type,
        "required": not column.has_nulls,
        "classification": classification,
    }


def source_contract(
    path: Path, domain: str, name: str, location: str, classification: str = "internal"
) -> dict[str, Any]:
    """An ODCS v3 source contract (as a YAML-ready mapping) for a landed file's columns.

    Args:
        path: a sample file: DuckDB's reader gives names and types, its nulls ``required``.
        domain: the owning domain.
        name: the source entity (the landing input port's name).
        location: the landing glob relative to the landing zone, e.g. ``shop/orders_*.csv``.
        classification: given to every column (source columns stay private to the domain).

    Raises:
        SpecErrors: the file cannot be read.
    """
    columns = describe_file(path)
    what = f"Files of {name} landed for the {domain} domain"
    props = [
        _property(c, f"{c.name} as landed (inferred from {Path(path).name}).", classification)
        for c in columns
    ]
    return {
        "apiVersion": "v3.1.0", "kind": "DataContract",
        "id": f"urn:datacontract:{domain}:source:{name}", "name": name, "version": "1.0.0",
        "status": "active", "domain": domain,
        "description": {"purpose": f"{what}.",
                        "usage": f"Ingestion boundary of the {domain} domain."},
        "servers": [{"server": "landing", "type": "local",
                     "format": FORMATS[Path(path).suffix.lower()], "path": f"landing/{location}"}],
        "schema": [{"name": name, "physicalName": name, "physicalType": "table",
                    "description": f"{what}.", "properties": props}],
    }  # fmt: skip
