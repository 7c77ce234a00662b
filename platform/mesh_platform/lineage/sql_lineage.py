"""Column lineage through CTEs: sqlglot over a model's compiled SQL, where openlineage-dbt stops."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage

# What sqlglot resolves columns with: catalog -> schema -> table -> column -> type, or a flat
# table -> column -> type.
Schema = dict[str, Any]


def column_sources(sql: str, column: str, schema: Schema) -> set[tuple[str, str, str, str]]:
    """(catalog, schema, table, column) of every base-table column ``column`` is computed from."""
    root = lineage(column, sql, schema, dialect="duckdb")
    leaves = set()
    for node in root.walk():
        if isinstance(node.source, exp.Table) and not node.downstream:
            table = node.source
            leaves.add((table.catalog, table.db, table.name, node.name.split(".")[-1]))
    return leaves


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
                sources = column_sources(sql, column, schema)
            except SqlglotError:
                continue  # keep what openlineage-dbt said rather than nothing
            spec["inputFields"] = [
                {"namespace": namespace, "name": f"{c}.{s}.{t}", "field": col}
                for c, s, t, col in sorted(sources)
            ]
