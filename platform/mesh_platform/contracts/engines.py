"""Per-engine checks of a candidate snapshot: schema, data rules, set rules and samples."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from mesh_platform.contracts import pandera_schema, sql
from mesh_platform.contracts.rules import ContractRules, Rule, expectation_met

VIEW = "candidate"  # the name {object} is bound to in ``type: sql`` rules


@dataclass
class Failure:
    """One broken rule, with up to five failing rows."""

    rule_id: str
    column: str | None
    kind: str
    failing_rows: int
    message: str
    samples: list[dict[str, Any]] = field(default_factory=list)


def _failure(rules: ContractRules, rule: Rule, rows: int, detail: str) -> Failure:
    where = f"column {rule.column}" if rule.column else f"table {rules.table}"
    message = f"{rules.label}: {where}: rule {rule.id} failed: {detail}"
    return Failure(rule.id, rule.column, rule.kind, rows, message)


def unreadable(rules: ContractRules, files: list[str]) -> list[Failure]:
    """A failure for an empty candidate or for each file whose Parquet footer cannot be read."""
    rule = Rule(f"{rules.table}.readable", None, "unreadable", "readable Parquet", False)
    if not files:
        return [_failure(rules, rule, 0, "no Parquet file in the candidate")]
    broken = []
    for f in files:
        try:
            pq.ParquetFile(f).metadata  # noqa: B018 - reading the footer is the check
        except Exception as exc:  # a truncated file fails here, in pyarrow's own words
            broken.append(_failure(rules, rule, 0, f"{f} is not a readable Parquet file: {exc}"))
    return broken


def check(rules: ContractRules, files: list[str], engine: str, con, report) -> None:
    """Run every rule on the view ``VIEW`` over ``files``; set ``report.rows`` and its failures."""
    try:
        bad = _schema_failures(rules, files, report)
        usable = _subset(rules, bad)
        report.rows, counts = _count(usable, files, engine, con)
    except (duckdb.Error, pl.exceptions.PolarsError, OSError) as exc:
        rule = Rule(f"{rules.table}.readable", None, "unreadable", "readable Parquet", False)
        report.failures.append(_failure(rules, rule, 0, f"{files} could not be read: {exc}"))
        return
    report.failures += _data_failures(usable, counts, con)
    report.failures += _set_failures(usable, report.rows, con)


def _schema_failures(rules: ContractRules, files: list[str], report) -> set[str]:
    """Pandera's schema-only check (footers only); returns the missing or mistyped columns."""
    schema = pandera_schema.to_pandera(rules)
    broken = pandera_schema.schema_failures(schema, pl.scan_parquet(files))
    by_kind = {(r.kind, r.column): r for r in rules.of_level("schema")}
    for kind, column, found in broken:
        rule = by_kind.get((kind, None if kind == "extra_columns" else column))
        if rule is not None:
            details = {"extra_columns": f"extra column {column}",
                       "type": f"{rule.description}, found {found}"}  # fmt: skip
            detail = details.get(kind, rule.description)
            report.failures.append(_failure(rules, rule, 0, detail))
    return {column for kind, column, _ in broken if kind in ("present", "type")}


def _subset(rules: ContractRules, bad_columns: set[str]) -> ContractRules:
    """Rules whose columns are all present and well typed (others cannot be evaluated)."""
    keep = [r for r in rules.rules if r.level != "schema" and r.column not in bad_columns
            and not set(r.columns) & bad_columns]  # fmt: skip
    columns = [c for c in rules.columns if c.name not in bad_columns]
    return dataclasses.replace(rules, columns=columns, rules=keep)


def _count(rules: ContractRules, files: list[str], engine: str, con) -> tuple[int, dict]:
    """Row count and violations per data rule, on the chosen engine."""
    if engine == "sql":
        return sql.fetch_counts(con, sql.violation_counts_sql(rules, VIEW))
    if engine != "pandera":
        raise ValueError(f"unknown engine {engine!r}: pandera or sql")
    frame = pl.read_parquet(files, columns=[c.name for c in rules.columns])
    counts = pandera_schema.violation_counts(rules, frame, keys=False)
    if rules.key_rules:
        counts.update(sql.fetch_counts(con, sql.violation_counts_sql(rules.key_rules, VIEW))[1])
    return frame.height, counts


def _data_failures(rules: ContractRules, counts: dict[str, int], con) -> list[Failure]:
    failures = []
    for rule in sql.data_rules(rules):
        n = counts.get(rule.id, 0)
        if not expectation_met(rule.expect, n):
            failure = _failure(rules, rule, n, f"{n} failing rows ({rule.description})")
            failure.samples = sql.fetch_rows(con, sql.violating_rows_sql(rule, VIEW))
            failures.append(failure)
    return failures


def _set_failures(rules: ContractRules, rows: int, con) -> list[Failure]:
    failures = []
    for rule in rules.of_level("set"):
        if rule.kind == "row_count" and not expectation_met(rule.expect, rows):
            op, arg = rule.expect
            failures.append(_failure(rules, rule, rows, f"row count {rows}, {op} {arg}"))
        elif rule.kind == "sql":
            failures += _sql_rule(rules, rule, con)
    return failures


def _sql_rule(rules: ContractRules, rule: Rule, con) -> list[Failure]:
    try:
        value = con.execute(sql.bind_query(rule, VIEW)).fetchone()[0]
    except (duckdb.Error, ValueError) as exc:
        return [_failure(rules, rule, 0, f"query failed: {exc}")]
    if expectation_met(rule.expect, value):
        return []
    op, arg = rule.expect
    rows = int(value) if isinstance(value, int | float) else 0
    return [_failure(rules, rule, rows, f"{rule.description}: got {value}, {op} {arg}")]
