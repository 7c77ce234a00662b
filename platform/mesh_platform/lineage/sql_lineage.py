"""Column lineage through CTEs: sqlglot over a model's compiled SQL, where openlineage-dbt stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage
from sqlglot.optimizer import build_scope, qualify
from sqlglot.schema import ensure_schema

from mesh_platform.lineage.facets import column_lineage
from mesh_platform.lineage.lineage_cache import UNTRACEABLE, Outcome, Sources, cache_key, load, save

# What sqlglot resolves columns with: catalog -> schema -> table -> column -> type, or a flat
# table -> column -> type.
Schema = dict[str, Any]
_DIALECT = "duckdb"


def _leaves(root) -> Sources:
    leaves = set()
    for node in root.walk():
        if isinstance(node.source, exp.Table) and not node.downstream and node.source.name:
            table = node.source  # (a table function such as range() has no name: no dataset)
            leaves.add((table.catalog, table.db, table.name, node.name.split(".")[-1]))
    return frozenset(leaves)


def column_sources(sql: str, column: str, schema: Schema) -> set[tuple[str, str, str, str]]:
    """(catalog, schema, table, column) of every base-table column ``column`` is computed from."""
    return set(_leaves(lineage(column, sql, schema, dialect=_DIALECT)))


class SqlLineage:
    """Column sources of one compiled SQL over one schema: traced once, kept in ``cache``.

    sqlglot's ``lineage()`` parses and qualifies the whole SQL again for every column, which is
    most of its cost on a long CTE chain; here the SQL is qualified once and every column traced
    from the same scope (what ``lineage()`` does given ``scope``). The outcomes, failures to
    trace included, are kept on disk (see ``lineage_cache``) so a later run, another process or
    the other caller of the same run reads them instead of tracing again.
    """

    def __init__(self, sql: str, schema: Schema, cache: Path | None = None) -> None:
        """Trace ``sql`` over ``schema``; ``cache``: the folder outcomes are kept in, if any."""
        self.sql, self.schema, self.cache = sql, schema, cache
        self._outcomes: dict[str, Outcome] = {}
        self._key: str | None = None
        self._qualified: tuple[Any, Any, Any] | BaseException | None = None

    def sources(self, column: str) -> set[tuple[str, str, str, str]]:
        """What ``column_sources`` gives for ``column``, raising what it would raise."""
        self.trace([column])
        outcome = self._outcomes[column]
        if isinstance(outcome, BaseException):
            raise outcome
        return set(outcome)

    def trace(self, columns: list[str]) -> None:
        """Know the outcome of every column in ``columns``, tracing only those not kept yet."""
        if self.cache is not None and self._key is None:
            self._key = cache_key(self.sql, self.schema)
            self._outcomes.update(load(self.cache, self._key))
        missing = [c for c in dict.fromkeys(columns) if c not in self._outcomes]
        if not missing:
            return
        for column in missing:
            self._outcomes[column] = self._trace(column)
        if self.cache is not None and self._key is not None:
            save(self.cache, self._key, self._outcomes)

    def _trace(self, column: str) -> Outcome:
        try:
            expression, schema, scope = self._scope()
            # trim_selects copies every step's SELECT (most of the time left) only to label nodes;
            # the leaves read here are the same without it.
            root = lineage(
                column, expression, schema, dialect=_DIALECT, scope=scope, copy=False,
                trim_selects=False,
            )  # fmt: skip
            return _leaves(root)
        except UNTRACEABLE as exc:  # what callers skip a column on: kept, so not retried
            return exc

    def _scope(self) -> tuple[Any, Any, Any]:
        """The qualified SQL and its root scope, as ``lineage()`` builds them (once per SQL)."""
        if self._qualified is None:
            try:
                schema = ensure_schema(self.schema, dialect=_DIALECT)
                expression = qualify.qualify(
                    exp.maybe_parse(self.sql, dialect=_DIALECT), dialect=_DIALECT, schema=schema,
                    validate_qualify_columns=False, identify=False,
                )  # fmt: skip
                scope = build_scope(expression)
                if not scope:
                    raise SqlglotError("Cannot build lineage, sql must be SELECT")
                self._qualified = (expression, schema, scope)
            except UNTRACEABLE as exc:  # every column fails as lineage() would for each
                self._qualified = exc
        if isinstance(self._qualified, BaseException):
            raise self._qualified
        return self._qualified


def _traced(traced: SqlLineage, column: str, namespace: str) -> list[dict[str, str]]:
    return [
        {"namespace": namespace, "name": f"{c}.{s}.{t}", "field": col}
        for c, s, t, col in sorted(traced.sources(column))
    ]


def repair_cte_lineage(
    event: dict[str, Any], sql: str, schema: Schema, namespace: str, cache: Path | None = None
) -> None:
    """Replace input fields that name a CTE (not one of the event's inputs) by their base columns.

    openlineage-dbt reports a column computed in a CTE as coming from a dataset named after the
    CTE; the audit trail must reach real tables, so those columns are traced again with sqlglot
    (kept in ``cache``, a folder, when given: see ``SqlLineage``).
    """
    traced = SqlLineage(sql, schema, cache)
    known = {(d["namespace"], d["name"]) for d in event.get("inputs", [])}
    for output in event.get("outputs", []):
        fields = ((output.get("facets") or {}).get("columnLineage") or {}).get("fields", {})
        for column, spec in fields.items():
            inputs = spec.get("inputFields", [])
            if all((f["namespace"], f["name"]) in known for f in inputs):
                continue
            try:
                spec["inputFields"] = _traced(traced, column, namespace)
            except SqlglotError:
                continue  # keep what openlineage-dbt said rather than nothing


def fill_missing_lineage(
    event: dict[str, Any],
    sql: str,
    schema: Schema,
    columns: list[str],
    namespace: str,
    cache: Path | None = None,
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
        cache: the folder traced columns are kept in across runs (None: traced every time).
    """
    traced = SqlLineage(sql, schema, cache)
    for output in event.get("outputs", []):
        facets = output.setdefault("facets", {})
        fields = (facets.get("columnLineage") or {}).get("fields") or {}
        if any(f.get("inputFields") for f in fields.values()):
            continue  # openlineage-dbt traced it (it leaves a `SELECT *` subquery's fields empty)
        mapping = {}
        traced.trace(columns)  # every column at once: one qualification, one cache write
        for column in columns:
            try:
                inputs = _traced(traced, column, namespace)
            except SqlglotError:
                continue
            if inputs:
                mapping[column] = [(f["namespace"], f["name"], f["field"]) for f in inputs]
        if mapping:
            facets["columnLineage"] = column_lineage(mapping)
