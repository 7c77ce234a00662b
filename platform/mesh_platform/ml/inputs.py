"""Checks of a model's training and scoring tables against its declaration, with the fix."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mesh_platform.descriptors.models import ModelSpec

_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
NUMERIC_TYPES = {*_INTEGERS, *(f"U{t}" for t in _INTEGERS), "FLOAT", "DOUBLE", "BOOLEAN"}
DATE_TYPES = ("DATE", "TIMESTAMP")


class ModelInputError(ValueError):
    """A table does not fit the model declared; the message names the file, field and fix."""

    def __init__(self, file: Path, field: str, problem: str, fix: str):
        """Name the product file, the ``model.<field>`` at fault, what is wrong and the fix."""
        self.file, self.field = file, f"model.{field}"
        super().__init__(f"{file}: {self.field}: {problem}. Fix: {fix}")


def numeric(duck_type: str) -> bool:
    """Whether LightGBM can take a column of this DuckDB type (numbers and booleans)."""
    return duck_type in NUMERIC_TYPES or duck_type.startswith("DECIMAL")


def relation(con: duckdb.DuckDBPyConnection, table: str, file: Path, field: str) -> str:
    """The quoted relation of a dbt model in the warehouse (schema ``main`` first).

    Raises:
        ModelInputError: No table or view of that name exists.
    """
    rows = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
        "ORDER BY table_schema <> 'main', table_schema",
        [table],
    ).fetchall()
    if not rows:
        raise ModelInputError(
            file,
            field,
            f"no table or view '{table}' in the domain's warehouse",
            f"add a dbt model '{table}' to the domain (dbt/models/{table}.sql) or name one",
        )
    return f'"{rows[0][0]}"."{table}"'


def columns(con: duckdb.DuckDBPyConnection, rel: str) -> dict[str, str]:
    """Column name -> DuckDB type of a relation, in table order."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {rel}").fetchall()}


def _require(cols: dict[str, str], names: list[str], file: Path, field: str, table: str) -> None:
    missing = [n for n in names if n not in cols]
    if missing:
        raise ModelInputError(
            file,
            field,
            f"'{table}' has no column {', '.join(missing)}",
            f"name columns of '{table}' ({', '.join(cols)}) or add them to its dbt model",
        )


def _require_numeric(cols: dict[str, str], names: list[str], file: Path, field: str) -> None:
    bad = {n: cols[n] for n in names if not numeric(cols[n])}
    if bad:
        listed = ", ".join(f"{n} ({t})" for n, t in bad.items())
        raise ModelInputError(
            file,
            field,
            f"LightGBM takes numbers and booleans only, not {listed}",
            "cast or encode these columns as numbers in the dbt model, or leave them out of "
            "'features'",
        )


def require_features(cols: dict[str, str], features: list[str], file: Path, table: str) -> None:
    """Check that a table has the given feature columns, each of a type LightGBM takes.

    Raises:
        ModelInputError: A feature is missing or not numeric.
    """
    _require(cols, features, file, "features", table)
    _require_numeric(cols, features, file, "features")


def check_keys(spec: ModelSpec, cols: dict[str, str], file: Path, table: str) -> None:
    """Check the as-of, entity and group columns of a table.

    Raises:
        ModelInputError: A key column is missing, or the as-of column is not a date.
    """
    _require(cols, [spec.as_of], file, "as_of", table)
    if cols[spec.as_of] not in DATE_TYPES:
        raise ModelInputError(
            file,
            "as_of",
            f"'{spec.as_of}' is {cols[spec.as_of]}, not a DATE",
            f"cast it to DATE in the dbt model '{table}' or name the as-of column",
        )
    _require(cols, spec.entity, file, "entity", table)
    _require(cols, spec.group or [], file, "group", table)


def check_table(
    spec: ModelSpec, cols: dict[str, str], file: Path, table: str, labelled: bool
) -> list[str]:
    """Check keys, label, baseline and features of a table; return the feature columns.

    Args:
        spec: The declared model.
        cols: The table's columns and types.
        file: The product descriptor (named in errors).
        table: The table's name.
        labelled: Whether the table must hold the label (the training table).

    Returns:
        The features: the declared ones, or every column but keys and label.

    Raises:
        ModelInputError: A declared column is missing or has a type the model cannot use.
    """
    check_keys(spec, cols, file, table)
    if labelled:
        _require(cols, [spec.label], file, "label", table)
        _require_numeric(cols, [spec.label], file, "label")
    if spec.baseline and labelled:
        _require(cols, [spec.baseline], file, "baseline", table)
        _require_numeric(cols, [spec.baseline], file, "baseline")
    skip = {*spec.keys, spec.label}
    features = spec.features or [c for c in cols if c not in skip]
    require_features(cols, features, file, table)
    if not features:
        raise ModelInputError(
            file,
            "features",
            f"'{table}' has no column besides keys and label",
            "add feature columns to the dbt model",
        )
    return features
