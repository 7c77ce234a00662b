"""Column lineage traced once per (compiled SQL, schema) and kept on disk for later runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import dagster as dg
import pytest
from mesh_platform.catalog.column_lineage import model_column_lineage
from mesh_platform.lineage import sql_lineage
from mesh_platform.lineage.sql_lineage import SqlLineage, column_sources, fill_missing_lineage
from sqlglot.errors import SqlglotError

DATA = Path(__file__).parent / "data"
# A real model's compiled SQL (a CTE chain with `l.*`, using(), qualify) and its warehouse.
SQL = (DATA / "customer_features.sql").read_text()
SCHEMA = json.loads((DATA / "personalization_schema.json").read_text())
COLUMNS = list(SCHEMA["personalization"]["main"]["customer_features"])


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """Every column sqlglot's lineage() is asked for, through the tracer."""
    seen: list[str] = []
    real = sql_lineage.lineage

    def counting(column, *args, **kwargs):
        seen.append(column)
        return real(column, *args, **kwargs)

    monkeypatch.setattr(sql_lineage, "lineage", counting)
    return seen


def _outcome(trace, column):
    try:
        return sorted(trace(column))
    except SqlglotError as exc:
        return ("error", type(exc).__name__, str(exc))


def _files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_cached_sources_equal_sqlglot_lineage_of_each_column(tmp_path):
    columns = [*COLUMNS, "no_such_column"]
    expected = {c: _outcome(lambda c: column_sources(SQL, c, SCHEMA), c) for c in columns}
    assert len({str(v) for v in expected.values()}) > 5  # columns with different sources
    traced = SqlLineage(SQL, SCHEMA, tmp_path)
    traced.trace(columns)
    assert {c: _outcome(traced.sources, c) for c in columns} == expected
    kept = SqlLineage(SQL, SCHEMA, tmp_path)  # another run: read back from the file
    assert {c: _outcome(kept.sources, c) for c in columns} == expected


def test_a_second_run_reads_the_kept_outcomes_without_sqlglot(tmp_path, calls):
    expected = column_sources(SQL, "customer_id", SCHEMA)
    calls.clear()
    SqlLineage(SQL, SCHEMA, tmp_path).trace([*COLUMNS, "no_such_column"])
    assert len(calls) == len(COLUMNS) + 1 and len(_files(tmp_path)) == 1
    calls.clear()
    again = SqlLineage(SQL, SCHEMA, tmp_path)
    assert again.sources("customer_id") == expected
    with pytest.raises(SqlglotError, match="no_such_column"):  # untraceable: kept, not retried
        again.sources("no_such_column")
    assert calls == []


def test_fill_missing_lineage_is_the_same_with_the_cache_and_reads_what_ports_traced(
    tmp_path, calls
):
    def event():
        return {"eventType": "COMPLETE", "outputs": [{"name": "x.y.z", "facets": {}}]}

    uncached, cached = event(), event()
    fill_missing_lineage(uncached, SQL, SCHEMA, COLUMNS, "ns")
    keys = {
        ("personalization", "main", t): dg.AssetKey([t]) for t in SCHEMA["personalization"]["main"]
    }
    port = model_column_lineage(SQL, COLUMNS, SCHEMA, keys, tmp_path)  # the run's metadata first
    assert port == model_column_lineage(SQL, COLUMNS, SCHEMA, keys)
    calls.clear()
    fill_missing_lineage(cached, SQL, SCHEMA, COLUMNS, "ns", tmp_path)
    assert cached == uncached and cached["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert calls == []


def test_a_corrupt_cache_file_is_traced_again_and_rewritten(tmp_path, calls):
    expected = column_sources(SQL, "customer_id", SCHEMA)
    SqlLineage(SQL, SCHEMA, tmp_path).trace(COLUMNS)
    (kept,) = _files(tmp_path)
    kept.write_text('{"columns": {"customer_id": {"sources": [["tr')
    calls.clear()
    again = SqlLineage(SQL, SCHEMA, tmp_path)
    assert again.sources("customer_id") == expected
    assert calls == ["customer_id"]
    assert "customer_id" in json.loads(kept.read_text())["columns"]


def test_a_changed_sql_or_schema_is_traced_anew(tmp_path, calls):
    star = "select * from wh.main.lines"
    narrow = {"wh": {"main": {"lines": {"amount": "DOUBLE"}}}}
    wide = copy.deepcopy(narrow)
    wide["wh"]["main"]["lines"]["tax"] = "DOUBLE"
    with pytest.raises(SqlglotError):
        SqlLineage(star, narrow, tmp_path).sources("tax")
    assert SqlLineage(star, wide, tmp_path).sources("tax") == {("wh", "main", "lines", "tax")}
    other = "select amount + 1 as tax from wh.main.lines"
    assert SqlLineage(other, narrow, tmp_path).sources("tax") == {("wh", "main", "lines", "amount")}
    assert calls == ["tax"] * 3 and len(_files(tmp_path)) == 3


def test_a_cache_that_cannot_be_written_never_fails_the_trace(tmp_path):
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("")
    traced = SqlLineage(SQL, SCHEMA, blocked / "column_lineage")
    assert traced.sources("age") == column_sources(SQL, "age", SCHEMA)
