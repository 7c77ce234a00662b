"""Column lineage traced with sqlglot where openlineage-dbt gives a model none."""

from __future__ import annotations

from mesh_platform.lineage.sql_lineage import fill_missing_lineage

SCHEMA = {"wh": {"main": {"lines": {"customer_id": "BIGINT", "day": "DATE", "amount": "DOUBLE"}}}}
# A point-in-time table: as-of dates from range(), features from a CTE chain.
SQL = """
with as_of as (
    select cast(date '2026-01-01' + cast(i as integer) * 30 as date) as as_of_date
    from range(0, 3) as t(i)
),
spend as (
    select a.as_of_date, l.customer_id, sum(l.amount) as spend_30d
    from wh.main.lines as l
    join as_of as a on l.day < a.as_of_date and l.day >= a.as_of_date - 30
    group by all
)
select customer_id, as_of_date, spend_30d from spend
"""


def _event(lineage=None) -> dict:
    facets = {"columnLineage": lineage} if lineage is not None else {}
    return {"eventType": "COMPLETE", "outputs": [{"name": "wh.main.f", "facets": facets}]}


def test_a_model_without_column_lineage_gets_it_traced_to_base_tables():
    event = _event()
    fill_missing_lineage(event, SQL, SCHEMA, ["customer_id", "as_of_date", "spend_30d"], "ns")
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert [(f["name"], f["field"]) for f in fields["spend_30d"]["inputFields"]] == [
        ("wh.main.lines", "amount")
    ]
    assert [f["field"] for f in fields["customer_id"]["inputFields"]] == ["customer_id"]
    assert "as_of_date" not in fields  # from range(): a table function is no dataset


def test_lineage_openlineage_dbt_gave_is_kept():
    given = {
        "fields": {"spend_30d": {"inputFields": [{"namespace": "x", "name": "y", "field": "z"}]}}
    }
    event = _event(given)
    fill_missing_lineage(event, SQL, SCHEMA, ["spend_30d"], "ns")
    assert event["outputs"][0]["facets"]["columnLineage"] == given
