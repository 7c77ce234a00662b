"""Validate a candidate snapshot against its contract: before publish and at ingestion."""

from __future__ import annotations

import dataclasses
import glob
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq
from open_data_contract_standard.model import OpenDataContractStandard

from mesh_platform.contracts import pandera_schema, sql
from mesh_platform.contracts.rules import (
    ContractRules,
    Rule,
    compile_rules,
    expectation_met,
    sql_literal,
)

# Engine choice, measured on a 10M-row order_lines port on 2 cores (bench/README.md): one-scan
# DuckDB SQL of all row and key rules 1.6 s; Pandera polars on the loaded frame 0.4 s for nulls
# and row checks (+0.4 s to load) but 3.0 s with the composite primary key (polars'
# is_duplicated/n_unique take 4-5 s on 10M keys, DuckDB's count(DISTINCT) 1.4 s). So the default
# engine="pandera" runs Pandera polars for schema, types, nulls and every row check and DuckDB
# for keys, row count, `type: sql` rules and samples: 0.98x the one-scan SQL in bench_contracts
# (target 1.5x). engine="sql" checks the schema with Pandera (footers only) and the data in
# DuckDB's one scan; it streams, so it also suits ports larger than memory.
VIEW = "candidate"  # the name {object} is bound to in ``type: sql`` rules
Contract = OpenDataContractStandard | ContractRules


class ContractViolation(Exception):
    """Input that cannot be checked at all (unreadable file, missing columns) at ingestion."""


@dataclass
class Failure:
    """One broken rule, with up to five failing rows."""

    rule_id: str
    column: str | None
    kind: str
    failing_rows: int
    message: str
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ValidationReport:
    """Outcome of validating one snapshot against one contract."""

    contract_id: str
    version: str
    engine: str
    rows: int
    failures: list[Failure]
    seconds: float
    files: list[str]

    @property
    def passed(self) -> bool:
        """True when no rule is broken."""
        return not self.failures

    def summary(self) -> str:
        """Readable multi-line text naming the contract, and every broken rule and column."""
        head = f"contract {self.contract_id} v{self.version}: {self.rows} rows"
        if self.passed:
            return f"{head}: passed ({self.engine}, {self.seconds:.2f} s)"
        lines = [f"{head}: FAILED {len(self.failures)} rule(s) ({self.engine})"]
        return "\n".join(lines + [f"  - {f.message}" for f in self.failures])


def _rules(contract: Contract) -> ContractRules:
    return contract if isinstance(contract, ContractRules) else compile_rules(contract)


def _failure(rules: ContractRules, rule: Rule, rows: int, detail: str) -> Failure:
    where = f"column {rule.column}" if rule.column else f"table {rules.table}"
    message = f"{rules.label}: {where}: rule {rule.id} failed: {detail}"
    return Failure(rule.id, rule.column, rule.kind, rows, message)


def resolve_files(paths: str | Path | Sequence[str | Path]) -> list[str]:
    """Parquet files named by a folder, a glob, a file or a list of them, sorted."""
    if isinstance(paths, str | Path):
        paths = [paths]
    found: list[str] = []
    for item in paths:
        p = Path(item)
        found += [str(f) for f in p.glob("*.parquet")] if p.is_dir() else glob.glob(str(item))
    return sorted(found)


def validate_snapshot(
    contract: Contract, paths: str | Path | Sequence[str | Path], engine: str = "pandera"
) -> ValidationReport:
    """Check a candidate snapshot's Parquet files against every rule of its contract.

    Args:
        contract: parsed ODCS contract (or rules already compiled from it).
        paths: the snapshot's folder, a glob, a file, or a list of files.
        engine: ``pandera`` (default) or ``sql``; see the module docstring.

    Returns:
        The report; ``report.passed`` is False when any rule is broken or a file is unreadable.

    """
    start, rules, files = time.perf_counter(), _rules(contract), resolve_files(paths)
    report = ValidationReport(rules.contract_id, rules.version, engine, 0, [], 0.0, files)
    report.failures = _unreadable(rules, files)
    if not report.failures:
        with duckdb.connect() as con:
            listed = ", ".join(sql_literal(f) for f in files)
            con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM read_parquet([{listed}])")
            _check(rules, files, engine, con, report)
    report.seconds = time.perf_counter() - start
    return report


def _unreadable(rules: ContractRules, files: list[str]) -> list[Failure]:
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


def _check(rules: ContractRules, files: list[str], engine: str, con, report) -> None:
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


def audit_for(contract: Contract, engine: str = "pandera") -> ContractAudit:
    """An audit for ``ports.publish(audit=...)`` that validates the staging folder.

    Args:
        contract: the port's contract.
        engine: validation engine, see :func:`validate_snapshot`.

    Returns:
        A callable ``(staging) -> None | summary``; ``.last_report`` keeps the latest report
        for asset-check metadata.

    """
    return ContractAudit(_rules(contract), engine)


class ContractAudit:
    """Callable audit keeping its last report (see :func:`audit_for`)."""

    def __init__(self, rules: ContractRules, engine: str):
        self.rules, self.engine = rules, engine
        self.last_report: ValidationReport | None = None

    def __call__(self, staging: Path) -> str | None:
        """Validate the candidate in ``staging``: None when it passes, else the summary."""
        self.last_report = validate_snapshot(self.rules, staging, self.engine)
        return None if self.last_report.passed else self.last_report.summary()


def landed_relation(path: str | Path) -> str:
    """The DuckDB table function reading a landed CSV or Parquet file, strictly."""
    if str(path).endswith(".parquet"):
        return f"read_parquet({sql_literal(str(path))})"
    return f"read_csv({sql_literal(str(path))}, header = true, strict_mode = true)"


def quarantine_split(
    contract: Contract, con: duckdb.DuckDBPyConnection, relation: str | duckdb.DuckDBPyRelation
) -> tuple[str, str, dict[str, Any]]:
    """Split received rows into accepted and quarantined, scanning the input once.

    Args:
        contract: the contract the rows must meet.
        con: the ingesting domain's connection; a TEMP table holds the checked rows.
        relation: a table/view name, a table function (:func:`landed_relation`) or a relation.

    Returns:
        ``(accepted_sql, quarantined_sql, counts)``; quarantined rows carry ``_rule`` and
        ``_reason``; counts has received, accepted, quarantined and by_rule, and
        accepted + quarantined == received.

    Raises:
        ContractViolation: the input cannot be read or lacks contract columns.

    """
    rules, name = _rules(contract), f"_checked_{uuid.uuid4().hex[:8]}"
    if isinstance(relation, duckdb.DuckDBPyRelation):
        relation.create_view(f"{name}_in")
        relation = f"{name}_in"
    try:
        present = {d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description}
        missing = [c.name for c in rules.columns if c.name not in present]
        if missing:
            raise ContractViolation(f"{rules.label}: {relation} lacks columns {missing}")
        con.execute(f"CREATE TEMP TABLE {name} AS {sql.checked_sql(rules, relation)}")
    except duckdb.Error as exc:
        raise ContractViolation(f"{rules.label}: cannot read {relation}: {exc}") from exc
    received, quarantined = con.execute(
        f"SELECT count(*), count({sql.RULE_COL}) FROM {name}").fetchone() or (0, 0)  # fmt: skip
    by_rule = dict(con.execute(
        f"SELECT r, count(*) FROM (SELECT unnest(string_split({sql.RULE_COL}, ', ')) AS r "
        f"FROM {name}) GROUP BY r ORDER BY r").fetchall())  # fmt: skip
    counts = {"received": received, "accepted": received - quarantined,
              "quarantined": quarantined, "by_rule": by_rule}  # fmt: skip
    return (*sql.split_checked(name), counts)
