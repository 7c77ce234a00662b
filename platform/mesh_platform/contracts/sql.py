"""Rule IR -> DuckDB SQL: one scan counting every violation, and the quarantine split."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb

from mesh_platform.contracts.rules import ContractRules, Rule, q, sql_literal

ROWS = "_rows"  # the total row count's column in the counts query
RULE_COL, REASON_COL = "_rule", "_reason"


def _as_list(rules: ContractRules | Sequence[Rule]) -> list[Rule]:
    return list(rules.rules if isinstance(rules, ContractRules) else rules)


def data_rules(rules: ContractRules | Sequence[Rule]) -> list[Rule]:
    """The rules a row scan evaluates: row-level predicates and uniqueness."""
    return [r for r in _as_list(rules) if r.row_level or r.kind in ("unique", "primary_key")]


def _not_null(cols: Sequence[str]) -> str:
    return " AND ".join(f"{q(c)} IS NOT NULL" for c in cols)


def duplicates_expr(rule: Rule) -> str:
    """Aggregate counting rows that repeat an earlier row's key (keys with a null are skipped).

    Every copy after the first counts, so the figure equals the rows the quarantine split
    sets aside, and Pandera's ``report_duplicates="exclude_first"``.
    """
    cols, present = rule.columns, _not_null(rule.columns)
    key = q(cols[0]) if len(cols) == 1 else "(" + ", ".join(q(c) for c in cols) + ")"
    return f"count(*) FILTER (WHERE {present}) - count(DISTINCT {key}) FILTER (WHERE {present})"


def violation_counts_sql(rules: ContractRules | Sequence[Rule], relation: str) -> str:
    """One scan of ``relation`` counting the rows and every row-level and uniqueness violation.

    Args:
        rules: compiled contract rules (or a subset of them).
        relation: a table, view or table function such as ``read_parquet([...])``.

    Returns:
        A query whose single row has ``_rows`` and one column per rule id.

    """
    items = [f"count(*) AS {q(ROWS)}"]
    for rule in data_rules(rules):
        expr = f"count(*) FILTER (WHERE {rule.predicate})" if rule.row_level else None
        items.append(f"{expr or duplicates_expr(rule)} AS {q(rule.id)}")
    return f"SELECT {', '.join(items)} FROM {relation}"


def violating_rows_sql(rule: Rule, relation: str, limit: int = 5) -> str:
    """Up to ``limit`` rows of ``relation`` that break one row-level or uniqueness rule."""
    if rule.row_level:
        return f"SELECT * FROM {relation} WHERE {rule.predicate} LIMIT {limit}"
    keys = ", ".join(q(c) for c in rule.columns)
    return (
        f"SELECT * FROM {relation} WHERE {_not_null(rule.columns)} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys}) > 1 LIMIT {limit}"
    )


def checked_sql(rules: ContractRules, relation: str) -> str:
    """Every row of ``relation`` plus ``_rule`` and ``_reason``.

    Both are NULL for a good row, else the ids and descriptions of every rule the row breaks,
    joined, so a row breaking several rules appears once. Among rows sharing a key the first in
    the order of the contract's columns is kept, which makes the split deterministic.
    """
    checks = data_rules(rules)
    keys = [r for r in checks if not r.row_level]
    order = ", ".join(q(c.name) for c in rules.columns)
    windows = [f"row_number() OVER (PARTITION BY {', '.join(q(c) for c in r.columns)} "
               f"ORDER BY {order}) AS _dup{i}" for i, r in enumerate(keys)]  # fmt: skip
    cases = [(r, r.predicate) for r in checks if r.row_level]
    cases += [(r, f"{_not_null(r.columns)} AND _dup{i} > 1") for i, r in enumerate(keys)]

    def joined(sep: str, text) -> str:
        whens = [f"CASE WHEN {cond} THEN {sql_literal(text(r))} END" for r, cond in cases]
        return f"NULLIF(concat_ws({sql_literal(sep)}, {', '.join(whens)}), '')" if whens else "NULL"

    source = f"(SELECT *, {', '.join(windows)} FROM {relation})" if windows else relation
    drop = f" EXCLUDE ({', '.join(f'_dup{i}' for i in range(len(keys)))})" if keys else ""
    return (
        f"SELECT *{drop}, {joined(', ', lambda r: r.id)} AS {RULE_COL}, "
        f"{joined('; ', lambda r: f'{r.id}: {r.description}')} AS {REASON_COL} FROM {source}"
    )


def split_sql(rules: ContractRules, relation: str) -> tuple[str, str]:
    """Accepted and quarantined rows of ``relation``; together they are exactly its rows.

    Args:
        rules: compiled contract rules.
        relation: the received rows (a table, view or table function).

    Returns:
        ``(accepted_sql, quarantined_sql)``; accepted rows have the relation's own columns,
        quarantined rows add ``_rule`` and ``_reason``. Materialise :func:`checked_sql` once
        instead when both are needed, to scan the input once.

    """
    checked = f"({checked_sql(rules, relation)})"
    return split_checked(checked)


def split_checked(checked: str) -> tuple[str, str]:
    """Accepted and quarantined rows of a relation produced by :func:`checked_sql`."""
    accepted = (
        f"SELECT * EXCLUDE ({RULE_COL}, {REASON_COL}) FROM {checked} WHERE {RULE_COL} IS NULL"
    )
    quarantined = f"SELECT * FROM {checked} WHERE {RULE_COL} IS NOT NULL"
    return accepted, quarantined


def bind_query(rule: Rule, relation: str) -> str:
    """A ``type: sql`` rule's query with ``{object}`` bound to the candidate relation.

    Raises:
        ValueError: the query is not a single SELECT (rules only read the candidate).

    """
    query = re.sub(r"\{object\}", relation, rule.query or "")
    statements = duckdb.extract_statements(query)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ValueError(f"{rule.id}: a quality query must be one SELECT, got {query!r}")
    return query


def fetch_counts(con: duckdb.DuckDBPyConnection, query: str) -> tuple[int, dict[str, int]]:
    """Run a :func:`violation_counts_sql` query: ``(rows, {rule id: violations})``."""
    cursor = con.execute(query)
    row = cursor.fetchone() or ()
    values = dict(zip([d[0] for d in cursor.description or []], row, strict=True))
    return int(values.pop(ROWS)), {k: int(v) for k, v in values.items()}


def fetch_rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    """Rows of a query as dicts, values other than str/number/bool/None as text."""
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description or []]
    plain = (str, int, float, bool, type(None))
    return [{k: v if isinstance(v, plain) else str(v) for k, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()]  # fmt: skip
