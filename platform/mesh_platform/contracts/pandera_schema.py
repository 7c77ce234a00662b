"""Rule IR -> Pandera polars schema: the contract's executable form for producers and consumers."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrorReason, SchemaErrors

from mesh_platform.contracts.rules import ContractRules, Rule

# Polars is the backend: on a 10M-row port (bench/README.md) it validates an in-memory frame
# faster than Pandera pandas (which also loads Parquet DATE as object) and Pandera ibis (which
# ignores Field(unique=True) and runs a query per check).
_SIMPLE_TYPES: dict[str, Any] = {
    "BIGINT": pl.Int64, "INTEGER": pl.Int32, "SMALLINT": pl.Int16, "TINYINT": pl.Int8,
    "UBIGINT": pl.UInt64, "UINTEGER": pl.UInt32, "DOUBLE": pl.Float64, "FLOAT": pl.Float32,
    "VARCHAR": pl.String, "DATE": pl.Date, "TIMESTAMP": pl.Datetime("us"),
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"), "BOOLEAN": pl.Boolean, "BLOB": pl.Binary,
}  # fmt: skip
_SCHEMA_REASONS = {
    SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME: "present",
    SchemaErrorReason.COLUMN_NOT_IN_SCHEMA: "extra_columns",
    SchemaErrorReason.WRONG_DATATYPE: "type",
}


def polars_dtype(duckdb_type: str) -> Any:
    """The polars dtype DuckDB's Parquet of a column of ``duckdb_type`` reads as (None: unknown)."""
    match = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duckdb_type)
    if match:
        return pl.Decimal(int(match[1]), int(match[2]))
    return _SIMPLE_TYPES.get(duckdb_type)


def _bound(value: Any, duckdb_type: str) -> Any:
    """Contract bounds on dates and timestamps are ISO strings; polars compares typed values."""
    if isinstance(value, str) and duckdb_type == "DATE":
        return date.fromisoformat(value)
    if isinstance(value, str) and duckdb_type.startswith("TIMESTAMP"):
        return datetime.fromisoformat(value)
    return value


def to_check(rule: Rule, duckdb_type: str) -> pa.Check | None:
    """The Pandera check of one row-level rule, named by the rule id (None for not-null)."""
    p, name = rule.params, rule.id
    if rule.kind in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
        factory = {"ge": pa.Check.ge, "le": pa.Check.le, "gt": pa.Check.gt, "lt": pa.Check.lt}
        return factory[p["check"]](_bound(p["value"], duckdb_type), name=name)
    if rule.kind in ("pattern", "email"):
        return pa.Check.str_contains(p["pattern"], name=name)  # search, as regexp_matches
    if rule.kind == "min_length":
        return pa.Check.str_length(min_value=p["value"], name=name)
    if rule.kind == "max_length":
        return pa.Check.str_length(max_value=p["value"], name=name)
    if rule.kind == "valid_values":
        return pa.Check.isin(p["values"], name=name)
    if rule.kind == "not_null" and p.get("missing"):
        return pa.Check.notin(p["missing"], name=name)
    return None


def to_pandera(rules: ContractRules, keys: bool = True, strict: bool = True) -> pa.DataFrameSchema:
    """Compile contract rules into a strict Pandera polars ``DataFrameSchema``.

    Columns carry dtype, nullability, uniqueness and their row checks; the primary key is the
    schema-level ``unique`` (the form every Pandera backend honours). Set-level rules (row
    count, ``type: sql``) have no Pandera form and stay with the SQL back-end.

    Args:
        rules: compiled contract rules.
        keys: include uniqueness (the validator leaves keys to DuckDB, see validate.py).
        strict: a column outside the contract is an error.

    Returns:
        A schema; validate a ``pl.DataFrame`` (or a ``pl.LazyFrame`` for the schema only).

    """
    columns = {}
    for spec in rules.columns:
        own = [r for r in rules.rules if r.column == spec.name]
        checks = [c for r in own if r.row_level and (c := to_check(r, spec.duckdb_type))]
        columns[spec.name] = pa.Column(
            polars_dtype(spec.duckdb_type),
            checks=checks,
            nullable=not any(r.kind == "not_null" for r in own),
            unique=keys and any(r.kind == "unique" and r.columns == (spec.name,) for r in own),
            description=spec.name,
        )
    key_rules = [r for r in rules.rules if r.kind == "primary_key" or (r.kind == "unique" and
                 len(r.columns) > 1)]  # fmt: skip
    return pa.DataFrameSchema(
        columns,
        strict=strict,
        unique=list(key_rules[0].columns) if keys and key_rules else None,
        name=rules.table,
        title=rules.label,
        metadata={"contract_id": rules.contract_id, "version": rules.version},
    )


def schema_failures(schema: pa.DataFrameSchema, frame: pl.LazyFrame) -> list[tuple[str, str, str]]:
    """Schema-only validation of a lazy frame; reads no data, only the Parquet footers.

    Returns:
        ``(kind, column, found)`` per problem; kind is ``present``, ``extra_columns`` or
        ``type`` (``found`` is then the column's actual polars dtype).

    """
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        found = []
        for err in errors.schema_errors:
            kind = _SCHEMA_REASONS.get(err.reason_code)  # type: ignore[arg-type]
            if kind is not None:
                actual = str(err.failure_cases) if kind == "type" else ""
                found.append((kind, str(_failure_column(err, kind)), actual))
        return found
    return []


def _failure_column(err: Any, kind: str) -> Any:
    if kind == "type":
        return getattr(err.schema, "name", None)
    return err.failure_cases if isinstance(err.failure_cases, str) else err.failure_cases[0]


def violation_counts(
    rules: ContractRules, frame: pl.DataFrame, keys: bool = True
) -> dict[str, int]:
    """Failing rows per rule id from a full Pandera validation of an in-memory frame.

    Args:
        rules: compiled rules; only their columns are validated (extra columns are ignored).
        frame: the data.
        keys: also check uniqueness; duplicates count the copies after the first, as in SQL.

    Returns:
        A count for every row-level rule (and uniqueness rule when ``keys``).

    """
    counts: Counter[str] = Counter()
    try:
        to_pandera(rules, keys=keys, strict=False).validate(frame, lazy=True)
    except SchemaErrors as errors:
        by_check = {r.id: r for r in rules.rules}
        for err in errors.schema_errors:
            rule = _rule_of(rules, by_check, err)
            if rule is not None and err.failure_cases is not None:
                counts[rule.id] += _failing_rows(rule, err.failure_cases)
    wanted = [r for r in rules.rules if r.row_level or (keys and r.columns)]
    return {r.id: counts.get(r.id, 0) for r in wanted}


def _rule_of(rules: ContractRules, by_check: dict[str, Rule], err: Any) -> Rule | None:
    check = err.check if isinstance(err.check, str) else getattr(err.check, "name", None)
    column = getattr(err.schema, "name", None)
    if check in by_check:
        return by_check[check]
    wanted = {"not_nullable": "not_null", "field_uniqueness": "unique"}.get(str(check))
    if check == "multiple_fields_uniqueness":
        return next(r for r in rules.rules if len(r.columns) > 1 or r.kind == "primary_key")
    return next((r for r in rules.rules if r.kind == wanted and r.column == column
                 and not r.params.get("missing")), None)  # fmt: skip


def _failing_rows(rule: Rule, cases: Any) -> int:
    if not isinstance(cases, pl.DataFrame):
        return 1
    if rule.row_level:
        return cases.height
    key = [c for c in rule.columns if c in cases.columns] or cases.columns[:1]
    return cases.height - cases.select(key).n_unique()
