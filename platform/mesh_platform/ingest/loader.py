"""Load one landed file: cast to the source contract, quarantine bad rows with the reason, log it.

Every received row ends up in exactly one of ``raw.<entity>`` (accepted) or ``quarantine.<entity>``
(with the rules it broke, and its original text values), so accepted + quarantined = received.
Re-delivering a file with the same content changes nothing; a corrected file replaces the rows
of its earlier delivery, atomically.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from mesh_platform.ingest.reader import UnreadableFile, load_landed


@dataclass(frozen=True)
class RowRule:
    """A rule one row can break: a SQL predicate over the typed columns, TRUE when violated."""

    rule_id: str
    violated: str
    message: str


@dataclass(frozen=True)
class SourceShape:
    """What ingestion needs from a source contract."""

    entity: str
    columns: dict[str, str]  # name -> DuckDB physical type, in contract order
    primary_key: list[str]
    row_rules: list[RowRule] = field(default_factory=list)


@dataclass
class FileResult:
    """The outcome of ingesting one file."""

    file: str
    status: str  # loaded | unchanged | rejected
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    reason: str = ""


def sha256(path: Path) -> str:
    """Content hash of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection, shape: SourceShape) -> None:
    """Create the raw, quarantine and log tables of an entity if absent."""
    typed = ", ".join(f'"{c}" {t}' for c, t in shape.columns.items())
    text = ", ".join(f'"{c}" VARCHAR' for c in shape.columns)
    for schema in ("raw", "quarantine", "meta"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS raw.{shape.entity} "
        f"({typed}, _source_file VARCHAR, _ingested_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS quarantine.{shape.entity} ({text}, _source_file VARCHAR,"
        " _rule VARCHAR, _reason VARCHAR, _quarantined_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS meta.ingest_log (entity VARCHAR, file VARCHAR, sha256 VARCHAR,"
        " status VARCHAR, received BIGINT, accepted BIGINT, quarantined BIGINT, reason VARCHAR,"
        " logged_at TIMESTAMP)"
    )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reason_checks(shape: SourceShape) -> list[tuple[str, str]]:
    """(rule id, SQL giving the reason when the row breaks the rule, else NULL) for every rule."""
    checks = []
    for col, typ in shape.columns.items():
        rid = f"{shape.entity}.{col}.type"
        broken = f'"{col}__text" IS NOT NULL AND "{col}" IS NULL'
        reason = f"""{_sql_text(rid + ": '")} || "{col}__text" || {_sql_text("' is not " + typ)}"""
        checks.append((rid, f"CASE WHEN {broken} THEN {reason} END"))
    for rule in shape.row_rules:
        reason = _sql_text(f"{rule.rule_id}: {rule.message}")
        checks.append((rule.rule_id, f"CASE WHEN ({rule.violated}) THEN {reason} END"))
    if shape.primary_key:
        rid, pk = f"{shape.entity}.primary_key", _column_list(shape.primary_key)
        first = f"row_number() OVER (PARTITION BY {pk} ORDER BY _row) = 1"
        again = _sql_text(f"{rid}: duplicate of an earlier row in this file")
        checks.append((rid, f"CASE WHEN NOT ({first}) THEN {again} END"))
        seen = _sql_text(f"{rid}: already ingested from another file")
        checks.append((rid, f"CASE WHEN _pk_seen THEN {seen} END"))
    return checks


def _column_list(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _checked_sql(shape: SourceShape, file: str) -> str:
    """SELECT over the landed text table: typed and text columns, and the rules each row broke."""
    text = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}__text"' for c in shape.columns)
    typed = ", ".join(f'TRY_CAST("{c}" AS {t}) AS "{c}"' for c, t in shape.columns.items())
    seen, join = "SELECT FALSE AS _pk_seen WHERE FALSE", "ON FALSE"
    if shape.primary_key:
        pk = _column_list(shape.primary_key)
        # Only the keys this file holds: a DISTINCT over every earlier row made each file's
        # ingestion scale with the whole table (15.2 s against 2.0 s for the 24th file of 26.7M
        # rows, bench/README.md); the semi join gives the same matches.
        seen = (
            f"SELECT DISTINCT {pk}, TRUE AS _pk_seen FROM raw.{shape.entity} "
            f"SEMI JOIN typed USING ({pk}) WHERE _source_file <> {_sql_text(file)}"
        )
        join = f"USING ({pk})"
    checks = _reason_checks(shape)
    reasons = ", ".join(sql for _, sql in checks)
    rules = ", ".join(f"CASE WHEN ({sql}) IS NOT NULL THEN '{rid}' END" for rid, sql in checks)
    return (
        f"WITH typed AS (SELECT rowid AS _row, {text}, {typed} FROM landed), seen AS ({seen}), "
        "marked AS (SELECT typed.*, coalesce(seen._pk_seen, FALSE) AS _pk_seen "
        f"FROM typed LEFT JOIN seen {join}) "
        f"SELECT *, concat_ws('; ', {reasons}) AS _reason, "
        f"array_to_string(list_sort(list_distinct([{rules}])), ', ') AS _rule FROM marked"
    )


def _last_loaded_hash(con: duckdb.DuckDBPyConnection, entity: str, file: str) -> str | None:
    row = con.execute(
        "SELECT sha256 FROM meta.ingest_log WHERE entity = ? AND file = ? AND status = 'loaded' "
        "ORDER BY logged_at DESC LIMIT 1",
        [entity, file],
    ).fetchone()
    return row[0] if row else None


def _log(con: duckdb.DuckDBPyConnection, entity: str, digest: str, result: FileResult) -> None:
    con.execute(
        "INSERT INTO meta.ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)",
        [entity, result.file, digest, result.status, result.received, result.accepted,
         result.quarantined, result.reason],
    )  # fmt: skip


def _replace_rows(con: duckdb.DuckDBPyConnection, shape: SourceShape, file: str) -> tuple[int, int]:
    """Swap in the checked rows of ``file`` (replacing earlier ones); (accepted, quarantined)."""
    cols = list(shape.columns)
    typed = ", ".join(f'"{c}"' for c in cols)
    text = ", ".join(f'"{c}__text"' for c in cols)
    for schema in ("raw", "quarantine"):
        con.execute(f"DELETE FROM {schema}.{shape.entity} WHERE _source_file = ?", [file])
    con.execute(
        f"INSERT INTO raw.{shape.entity} SELECT {typed}, ?, now()::timestamp "
        "FROM checked WHERE _reason = '' ORDER BY _row", [file],
    )  # fmt: skip
    con.execute(
        f"INSERT INTO quarantine.{shape.entity} SELECT {text}, ?, _rule, _reason, now()::timestamp "
        "FROM checked WHERE _reason <> '' ORDER BY _row", [file],
    )  # fmt: skip
    row = con.execute("SELECT count(*) FILTER (WHERE _reason = ''), count(*) FILTER "
                      "(WHERE _reason <> '') FROM checked").fetchone()  # fmt: skip
    return (int(row[0]), int(row[1])) if row else (0, 0)


def ingest_file(
    con: duckdb.DuckDBPyConnection, shape: SourceShape, path: Path, file: str
) -> FileResult:
    """Ingest one landed file into ``raw.<entity>`` and ``quarantine.<entity>`` in one transaction.

    Args:
        con: the domain warehouse's connection.
        shape: the entity's source contract, compiled.
        path: the landed file.
        file: the file's name relative to the landing zone (its identity across deliveries).

    Returns:
        The outcome; ``rejected`` when the file cannot be read at all (nothing is loaded then).

    """
    ensure_tables(con, shape)
    digest = sha256(path)
    if _last_loaded_hash(con, shape.entity, file) == digest:
        return FileResult(file, "unchanged")
    try:
        received = load_landed(con, path, list(shape.columns), "landed")
    except UnreadableFile as exc:
        result = FileResult(file, "rejected", reason=exc.reason)
        _log(con, shape.entity, digest, result)
        return result
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {_checked_sql(shape, file)}")
        accepted, quarantined = _replace_rows(con, shape, file)
        if accepted + quarantined != received:  # the invariant the quarantine promises
            raise RuntimeError(f"{file}: {accepted} + {quarantined} rows != {received} received")
        result = FileResult(file, "loaded", received, accepted, quarantined)
        _log(con, shape.entity, digest, result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result
