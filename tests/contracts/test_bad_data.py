"""Bad-data corpus: each defect, built from a good order_lines table, is caught and named."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from mesh_platform.contracts import pandera_schema, sql
from mesh_platform.contracts.rules import compile_rules
from mesh_platform.contracts.validate import (
    ContractViolation,
    ValidationReport,
    landed_relation,
    quarantine_split,
    validate_snapshot,
)
from open_data_contract_standard.model import OpenDataContractStandard

from tests.contracts import REFERENCE

CONTRACT_ID = "urn:datacontract:sales:order_lines"
ENGINES = ["pandera", "sql"]
SCHEMA = pa.schema([
    ("order_id", pa.int64()), ("line_number", pa.int32()), ("customer_id", pa.int64()),
    ("product_id", pa.int64()), ("ordered_at", pa.timestamp("us")), ("order_date", pa.date32()),
    ("channel", pa.string()), ("status", pa.string()), ("quantity", pa.int32()),
    ("unit_price", pa.decimal128(10, 2)), ("discount_pct", pa.float64()),
    ("promotion_id", pa.int64()), ("line_revenue", pa.decimal128(12, 2)),
])  # fmt: skip


def order_lines_contract() -> OpenDataContractStandard:
    text = REFERENCE.read_text()
    return OpenDataContractStandard.model_validate(yaml.safe_load(text))


def good_rows(n: int = 40) -> list[dict]:
    """A small table that meets every rule of the order_lines contract."""
    rows = []
    for i in range(n):
        qty, price = i % 5 + 1, Decimal(f"{i % 7 + 1}.{i % 100:02d}")
        at = datetime(2024, 3, 1, 10) + timedelta(hours=i)
        rows.append({
            "order_id": 1000 + i // 3, "line_number": i % 3 + 1, "customer_id": 7 + i % 4,
            "product_id": 500 + i, "ordered_at": at, "order_date": at.date(),
            "channel": ["web", "app", "store"][i % 3],
            "status": ["completed", "returned", "cancelled"][i % 3], "quantity": qty,
            "unit_price": price, "discount_pct": 0.1 if i % 4 == 0 else 0.0,
            "promotion_id": 3 if i % 4 == 0 else None, "line_revenue": qty * price,
        })  # fmt: skip
    return rows


def write(folder: Path, rows: list[dict], schema: pa.Schema = SCHEMA) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")
    return folder


def check(report: ValidationReport, rule_id: str, column: str | None, rows: int, also=(),
          contract_id: str = CONTRACT_ID) -> None:  # fmt: skip
    """The report fails on exactly rule_id (+ also), naming contract, column and rule."""
    assert not report.passed
    assert {f.rule_id for f in report.failures} == {rule_id, *also}, report.summary()
    failure = next(f for f in report.failures if f.rule_id == rule_id)
    assert failure.failing_rows == rows, report.summary()
    assert failure.column == column
    for text in (contract_id, rule_id, column or ""):
        assert text in failure.message and text in report.summary()


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


def test_good_table_passes(tmp_path, engine):
    report = validate_snapshot(order_lines_contract(), write(tmp_path, good_rows()), engine)
    assert report.passed, report.summary()
    assert report.rows == 40 and "passed" in report.summary()


def test_nulls_in_required_column(tmp_path, engine):
    rows = good_rows()
    for r in rows[:3]:
        r["customer_id"] = None
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.customer_id.required", "customer_id", 3)
    assert len(report.failures[0].samples) == 3


def test_duplicate_primary_keys(tmp_path, engine):
    rows = good_rows()
    rows += [dict(rows[0], product_id=1), dict(rows[5], product_id=2)]
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.primary_key", "order_id, line_number", 2)


def test_wrong_type(tmp_path, engine):
    schema = SCHEMA.set(SCHEMA.get_field_index("quantity"), pa.field("quantity", pa.int64()))
    report = validate_snapshot(order_lines_contract(), write(tmp_path, good_rows(), schema), engine)
    check(report, "order_lines.quantity.type", "quantity", 0)
    assert "quantity must be INTEGER, found Int64" in report.summary()


def test_out_of_range_value(tmp_path, engine):
    rows = good_rows()
    rows[1]["discount_pct"] = rows[2]["discount_pct"] = 0.95
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.discount_pct.maximum", "discount_pct", 2)


def test_value_outside_enumeration(tmp_path, engine):
    rows = good_rows()
    for r in rows[:4]:
        r["channel"] = "fax"
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.channel.valid_channel", "channel", 4)


EMAIL_CONTRACT = textwrap.dedent("""
    apiVersion: v3.1.0
    kind: DataContract
    id: urn:datacontract:customers:contacts
    version: 2.1.0
    status: active
    schema:
      - name: contacts
        properties:
          - {name: customer_id, physicalType: BIGINT, required: true, primaryKey: true}
          - name: email
            physicalType: VARCHAR
            logicalType: string
            logicalTypeOptions: {format: email, maxLength: 40}
""")


def test_malformed_email(tmp_path, engine):
    contract = OpenDataContractStandard.model_validate(yaml.safe_load(EMAIL_CONTRACT))
    emails = ["a@shop.example", "no-at-sign", "b@@x.example", "c d@x.example", None, "e@x.io"]
    table = pa.table({"customer_id": pa.array(range(6), pa.int64()), "email": emails})
    pq.write_table(table, tmp_path / "part-0.parquet")
    report = validate_snapshot(contract, tmp_path, engine)
    assert "urn:datacontract:customers:contacts v2.1.0" in report.summary()
    check(report, "contacts.email.format_email", "email", 3,
          contract_id="urn:datacontract:customers:contacts")  # fmt: skip
    assert "email must be an e-mail address" in report.summary()


def test_extra_column(tmp_path, engine):
    rows = [dict(r, secret="x") for r in good_rows()]
    folder = write(tmp_path, rows, SCHEMA.append(pa.field("secret", pa.string())))
    report = validate_snapshot(order_lines_contract(), folder, engine)
    check(report, "order_lines.no_extra_columns", None, 0)
    assert "extra column secret" in report.summary()


def test_missing_column(tmp_path, engine):
    schema = SCHEMA.remove(SCHEMA.get_field_index("promotion_id"))
    report = validate_snapshot(order_lines_contract(), write(tmp_path, good_rows(), schema), engine)
    check(report, "order_lines.promotion_id.present", "promotion_id", 0)


def test_renamed_column(tmp_path, engine):
    rows = [
        {("order_status" if k == "status" else k): v for k, v in r.items()} for r in good_rows()
    ]
    schema = SCHEMA.set(SCHEMA.get_field_index("status"), pa.field("order_status", pa.string()))
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows, schema), engine)
    check(report, "order_lines.status.present", "status", 0, also={"order_lines.no_extra_columns"})
    assert "extra column order_status" in report.summary()


def test_empty_file_breaks_row_count(tmp_path, engine):
    report = validate_snapshot(order_lines_contract(), write(tmp_path, []), engine)
    check(report, "order_lines.not_empty", None, 0)
    assert "mustBeGreaterThan 0" in report.summary()


def test_truncated_parquet_is_a_clear_failure(tmp_path, engine):
    part = write(tmp_path, good_rows()) / "part-0.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    report = validate_snapshot(order_lines_contract(), tmp_path, engine)
    check(report, "order_lines.readable", None, 0)
    assert str(part) in report.summary()


def test_invalid_utf8_csv_at_ingestion_is_a_clear_error(tmp_path):
    landed = tmp_path / "order_lines.csv"
    landed.write_bytes(b"order_id,channel\n1,web\n2,\xff\xfeweb\n")
    with pytest.raises(ContractViolation) as caught, duckdb.connect() as con:
        quarantine_split(order_lines_contract(), con, landed_relation(landed))
    assert CONTRACT_ID in str(caught.value) and str(landed) in str(caught.value)
    assert "unicode" in str(caught.value).lower() or "utf" in str(caught.value).lower()


def test_timestamps_in_the_future(tmp_path, engine):
    rows = good_rows()
    for r in rows[:2]:
        r["ordered_at"] = datetime.now() + timedelta(days=30)
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.no_future_orders", None, 2)


def test_negative_quantities(tmp_path, engine):
    rows = good_rows()
    for r in rows[:2]:
        r["quantity"] = -r["quantity"]
        r["line_revenue"] = r["quantity"] * r["unit_price"]  # keep the revenue rule satisfied
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.quantity.minimum", "quantity", 2)


def test_failing_sql_quality_rule(tmp_path, engine):
    rows = good_rows()
    for r in rows[:3]:
        r["line_revenue"] += Decimal("5.00")
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.revenue_matches_price", None, 3)
    assert "line_revenue is quantity x unit_price" in report.summary()


def test_quantity_above_maximum_and_bad_status_in_one_file(tmp_path, engine):
    rows = good_rows()
    rows[0]["quantity"], rows[0]["line_revenue"] = 5000, 5000 * rows[0]["unit_price"]
    rows[1]["status"] = "lost"
    report = validate_snapshot(order_lines_contract(), write(tmp_path, rows), engine)
    check(report, "order_lines.quantity.maximum", "quantity", 1,
          also={"order_lines.status.valid_status"})  # fmt: skip


def test_date_before_minimum_is_caught(tmp_path, engine):
    contract = order_lines_contract()
    prop = next(p for p in contract.schema_[0].properties if p.name == "order_date")  # type: ignore[index]
    prop.logicalTypeOptions = {"minimum": "2024-01-01"}
    rows = good_rows()
    rows[4]["order_date"] = date(2019, 12, 31)
    report = validate_snapshot(contract, write(tmp_path, rows), engine)
    check(report, "order_lines.order_date.minimum", "order_date", 1)


ROW_DEFECTS = {
    "nulls": lambda r, i: r.update(customer_id=None) if i < 3 else None,
    "range": lambda r, i: r.update(discount_pct=0.99) if i % 7 == 0 else None,
    "enum": lambda r, i: r.update(channel="fax") if i % 5 == 0 else None,
    "negative": lambda r, i: r.update(quantity=-1) if i % 6 == 0 else None,
    "line_number": lambda r, i: r.update(line_number=0) if i == 9 else None,
    "status_null_and_bad": lambda r, i: r.update(status=None if i < 2 else "x") if i < 5 else None,
}


@pytest.mark.parametrize("defect", sorted(ROW_DEFECTS))
def test_pandera_and_sql_agree_on_row_level_counts(defect):
    rows = good_rows()
    for i, r in enumerate(rows):
        ROW_DEFECTS[defect](r, i)
    rules = compile_rules(order_lines_contract())
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    by_pandera = pandera_schema.violation_counts(rules, frame)
    with duckdb.connect() as con:
        con.register("t", frame.to_arrow())
        _, by_sql = sql.fetch_counts(con, sql.violation_counts_sql(rules, "t"))
    assert by_pandera == by_sql
    assert sum(by_sql.values()) > 0


def test_quarantine_split_adds_up(tmp_path):
    rows = good_rows()
    rows[0]["quantity"], rows[0]["channel"] = 0, "fax"  # one row, two broken rules
    rows[3]["customer_id"] = None
    rows += [dict(rows[10]), dict(rows[11], discount_pct=2.0)]  # duplicate keys
    folder = write(tmp_path, rows)
    with duckdb.connect() as con:
        accepted, quarantined, counts = quarantine_split(
            order_lines_contract(), con, f"read_parquet('{folder}/*.parquet')"
        )
        n_ok = con.execute(f"SELECT count(*) FROM ({accepted})").fetchone()[0]  # type: ignore[index]
        bad = con.execute(f"SELECT _rule FROM ({quarantined}) ORDER BY _rule").fetchall()
        ok_cols = [d[0] for d in con.execute(accepted).description]
    assert counts["received"] == len(rows) == 42
    assert counts["accepted"] + counts["quarantined"] == counts["received"]
    assert (n_ok, len(bad)) == (counts["accepted"], counts["quarantined"]) == (38, 4)
    assert ("order_lines.channel.valid_channel, order_lines.quantity.minimum",) in bad
    assert counts["by_rule"]["order_lines.primary_key"] == 2
    assert ok_cols == SCHEMA.names
