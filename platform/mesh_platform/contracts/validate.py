"""Validate a candidate snapshot against its contract: before publish and at ingestion."""

from __future__ import annotations

import glob
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from open_data_contract_standard.model import OpenDataContractStandard

from mesh_platform.contracts import sql
from mesh_platform.contracts.engines import VIEW, check, unreadable
from mesh_platform.contracts.engines import Failure as Failure
from mesh_platform.contracts.rules import ContractRules, compile_rules, sql_literal

# Engine choice, measured on a 10M-row port on 2 cores (bench/README.md): one-scan
# DuckDB SQL of all row and key rules 1.6 s; Pandera polars on the loaded frame 0.4 s for nulls
# and row checks (+0.4 s to load) but 3.0 s with the composite primary key (polars'
# is_duplicated/n_unique take 4-5 s on 10M keys, DuckDB's count(DISTINCT) 1.4 s). So the default
# engine="pandera" runs Pandera polars for schema, types, nulls and every row check and DuckDB
# for keys, row count, `type: sql` rules and samples: 0.98x the one-scan SQL in bench_contracts
# (target 1.5x). engine="sql" checks the schema with Pandera (footers only) and the data in
# DuckDB's one scan; it streams, so it also suits ports larger than memory.
Contract = OpenDataContractStandard | ContractRules


class ContractViolation(Exception):
    """Input that cannot be checked at all (unreadable file, missing columns) at ingestion."""


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
    report.failures = unreadable(rules, files)
    if not report.failures:
        with duckdb.connect() as con:
            listed = ", ".join(sql_literal(f) for f in files)
            con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM read_parquet([{listed}])")
            check(rules, files, engine, con, report)
    report.seconds = time.perf_counter() - start
    return report


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
