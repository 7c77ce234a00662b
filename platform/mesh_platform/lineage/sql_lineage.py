"""Column lineage through CTEs: sqlglot over a model's compiled SQL, where openlineage-dbt stops."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage

from mesh_platform.lineage.facets import column_lineage

# What sqlglot resolves columns with: catalog -> schema -> table -> column -> type, or a flat
# table -> column -> type.
Schema = dict[str, Any]


def column_sources(sql: str, column: str, schema: Schema) -> set[tuple[str, str, str, str]]:
    """(catalog, schema, table, column) of every base-table column ``column`` is computed from."""
    root = lineage(column, sql, schema, dialect="duckdb")
    leaves = set()
    for node in root.walk():
        if isinstance(node.source, exp.Table) and not node.downstream and node.source.name:
            table = node.source  # (a table function such as range() has no name: no dataset)
            leaves.add((table.catalog, table.db, table.name, node.name.split(".")[-1]))
    return leaves


def _traced(sql: str, column: str, schema: Schema, namespace: str) -> list[dict[str, str]]:
    return [
        {"namespace": namespace, "name": f"{c}.{s}.{t}", "field": col}
        for c, s, t, col in sorted(column_sources(sql, column, schema))
    ]


def repair_cte_lineage(event: dict[str, Any], sql: str, schema: Schema, namespace: str) -> None:
    """Replace input fields that name a CTE (not one of the event's inputs) by their base columns.

    openlineage-dbt reports a column computed in a CTE as coming from a dataset named after the
    CTE; the audit trail must reach real tables, so those columns are traced again with sqlglot.
    """
    known = {(d["namespace"], d["name"]) for d in event.get("inputs", [])}
    for output in event.get("outputs", []):
        fields = ((output.get("facets") or {}).get("columnLineage") or {}).get("fields", {})
        for column, spec in fields.items():
            inputs = spec.get("inputFields", [])
            if all((f["namespace"], f["name"]) in known for f in inputs):
                continue
            try:
                spec["inputFields"] = _traced(sql, column, schema, namespace)
            except SqlglotError:
                continue  # keep what openlineage-dbt said rather than nothing


def fill_missing_lineage(
    event: dict[str, Any], sql: str, schema: Schema, columns: list[str], namespace: str
) -> None:
    """Trace every column with sqlglot when openlineage-dbt gave an output no column lineage.

    Its parser gives up on some valid DuckDB SQL (macro-built CTE chains over ``range()``, as
    point-in-time feature tables are); the audit trail must still reach the ports.

    Args:
        event: a dbt model's event (changed in place).
        sql: the model's compiled SQL.
        schema: the warehouse's tables and columns.
        columns: the model's output columns.
        namespace: the warehouse's dataset namespace.
    """
    for output in event.get("outputs", []):
        facets = output.setdefault("facets", {})
        fields = (facets.get("columnLineage") or {}).get("fields") or {}
        if any(f.get("inputFields") for f in fields.values()):
            continue  # openlineage-dbt traced it (it leaves a `SELECT *` subquery's fields empty)
        mapping = {}
        for column in columns:
            try:
                inputs = _traced(sql, column, schema, namespace)
            except SqlglotError:
                continue
            if inputs:
                mapping[column] = [(f["namespace"], f["name"], f["field"]) for f in inputs]
        if mapping:
            facets["columnLineage"] = column_lineage(mapping)
