"""`dagster/column_lineage` of a dbt port: sqlglot over the model's compiled SQL of the run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from sqlglot.errors import SqlglotError

from mesh_platform.lineage.sql_lineage import Schema, SqlLineage

KeyOf = Callable[[Mapping[str, Any]], dg.AssetKey]


def _relations(manifest: Mapping[str, Any], key_of: KeyOf) -> dict[tuple[str, ...], dg.AssetKey]:
    """(catalog, schema, table) of every model and source -> its Dagster asset key."""
    found = {}
    for node in [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]:
        if node.get("resource_type") not in ("model", "source", "seed", "snapshot"):
            continue
        parts = (node.get("database"), node.get("schema"), node.get("alias") or node.get("name"))
        if all(parts):
            try:
                found[tuple(str(p).lower() for p in parts)] = key_of(node)
            except ValueError:  # a source the translator refuses is reported by the build itself
                continue
    return found


def model_column_lineage(
    sql: str,
    columns: Iterable[str],
    schema: Schema,
    keys: Mapping[tuple[str, ...], dg.AssetKey],
    cache: Path | None = None,
) -> dg.TableColumnLineage | None:
    """Each output column's upstream (asset, column) pairs; None when none could be traced.

    A column that sqlglot cannot trace (a function table such as read_parquet, a literal) is left
    out rather than guessed. ``cache`` is the folder traced columns are kept in across runs, the
    same the run's OpenLineage events read (None: traced every time).
    """
    columns = list(columns)
    traced = SqlLineage(sql, schema, cache)
    traced.trace(columns)  # every column at once: one qualification, one cache write
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for column in columns:
        try:
            sources = traced.sources(column)
        except (SqlglotError, KeyError, ValueError):
            continue
        found = [
            dg.TableColumnDep(asset_key=keys[(c.lower(), s.lower(), t.lower())], column_name=col)
            for c, s, t, col in sorted(sources)
            if (c.lower(), s.lower(), t.lower()) in keys
        ]
        if found:
            deps[column] = found
    return dg.TableColumnLineage(deps_by_column=deps) if deps else None


def port_column_lineage(
    target: Path, schema: Schema, models: Iterable[str], key_of: KeyOf, cache: Path | None = None
) -> dict[str, dg.TableColumnLineage]:
    """Column lineage of the given port models, from the run's own manifest (compiled SQL).

    Args:
        target: the dbt run's target path (its manifest.json holds the compiled SQL).
        schema: catalog -> schema -> table -> column -> type of the warehouse after the build.
        models: dbt model names of the ports built.
        key_of: the translator's ``get_asset_key``.
        cache: the folder traced columns are kept in across runs (None: traced every time).

    Returns:
        Model name -> lineage, for the models where at least one column was traced.

    """
    manifest = json.loads((Path(target) / "manifest.json").read_text())
    keys = _relations(manifest, key_of)
    wanted = set(models)
    out = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("name") not in wanted or not node.get("compiled_code"):
            continue
        table = schema.get(node["database"], {}).get(node["schema"], {}).get(node["alias"], {})
        lineage = model_column_lineage(node["compiled_code"], list(table), schema, keys, cache)
        if lineage:
            out[node["name"]] = lineage
    return out


def lineage_metadata(
    target: Path,
    warehouse: Path,
    models: Iterable[str],
    key_of: KeyOf,
    log: Any,
    cache: Path | None = None,
) -> dict[str, dict[str, dg.TableColumnLineage]]:
    """Model -> ``{"dagster/column_lineage": ...}`` for materialisations; never fails the run.

    Args:
        target: the dbt run's target path.
        warehouse: the domain's DuckDB file (dbt has exited, so it is free to open).
        models: dbt model names of the ports built.
        key_of: the translator's ``get_asset_key``.
        log: the run's logger; a failure to trace is a warning, not an error.
        cache: the folder traced columns are kept in across runs (None: traced every time).

    """
    from mesh_platform.warehouse import duckdb_schema

    models = list(models)
    if not models:
        return {}
    try:
        found = port_column_lineage(target, duckdb_schema(warehouse), models, key_of, cache)
    except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal to data
        log.warning(f"column lineage not traced: {exc!r}")
        return {}
    return {model: {"dagster/column_lineage": lineage} for model, lineage in found.items()}
