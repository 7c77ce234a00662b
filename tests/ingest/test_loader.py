"""Ingestion boundary: rows checked against the source contract; bad rows quarantined."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_platform.ingest.loader import ingest_file
from mesh_platform.ingest.shape import load_source_shape

from tests.support import REPO

HEADER = (
    "customer_id,first_name,last_name,email,birth_date,city,country,signup_date,marketing_opt_in\n"
)
GOOD = "1,Ada,Lovelace,ada.lovelace.1@example.com,1980-12-10,Berlin,DE,2024-11-02,true\n"


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "customers.duckdb")) as connection:
        yield connection


@pytest.fixture
def customers():
    return load_source_shape(REPO / "contracts", "customers", "crm_customers")


def land(tmp_path, name: str, text: str | bytes):
    path = tmp_path / "landing" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def rows(con, sql: str):
    return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("bad_line", "rule"),
    [
        ("2,Bob,Smith,,1980-01-01,Paris,FR,2024-11-02,true\n", "crm_customers.email.required"),
        (
            "2,Bob,Smith,not-an-email,1980-01-01,Paris,FR,2024-11-02,true\n",
            "crm_customers.email.format",
        ),
        (
            "two,Bob,Smith,b@example.com,1980-01-01,Paris,FR,2024-11-02,true\n",
            "crm_customers.customer_id.type",
        ),
        (
            "2,Bob,Smith,b@example.com,1980-02-30,Paris,FR,2024-11-02,true\n",
            "crm_customers.birth_date.type",
        ),
        (
            "2,Bob,Smith,b@example.com,1980-01-01,Paris,France,2024-11-02,true\n",
            "crm_customers.country.pattern",
        ),
        (
            "1,Bob,Smith,b@example.com,1980-01-01,Paris,FR,2024-11-02,true\n",
            "crm_customers.primary_key",
        ),
    ],
)
def test_bad_row_is_quarantined_with_rule_and_reason(tmp_path, con, customers, bad_line, rule):
    path = land(tmp_path, "customers/crm_customers.csv", HEADER + GOOD + bad_line)
    result = ingest_file(con, customers, path, "customers/crm_customers.csv")
    assert (result.status, result.received, result.accepted, result.quarantined) == (
        "loaded",
        2,
        1,
        1,
    )
    [(rules, reason, source)] = rows(
        con, "SELECT _rule, _reason, _source_file FROM quarantine.crm_customers"
    )
    assert rule in rules and rule in reason and source == "customers/crm_customers.csv"
    assert rows(con, "SELECT customer_id, email FROM raw.crm_customers") == [
        (1, "ada.lovelace.1@example.com")
    ]


def test_quarantine_keeps_original_values_and_all_reasons(tmp_path, con, customers):
    bad = "x,Bob,Smith,nope,1980-13-01,Paris,FR,2024-11-02,maybe\n"
    path = land(tmp_path, "customers/crm_customers.csv", HEADER + bad)
    ingest_file(con, customers, path, "customers/crm_customers.csv")
    [(cid, email, rules)] = rows(
        con, "SELECT customer_id, email, _rule FROM quarantine.crm_customers"
    )
    assert (cid, email) == ("x", "nope")  # kept as delivered, not as cast
    for rule in ("customer_id.type", "birth_date.type", "marketing_opt_in.type", "email.format"):
        assert f"crm_customers.{rule}" in rules


def test_same_file_twice_changes_nothing(tmp_path, con, customers):
    path = land(tmp_path, "customers/crm_customers.csv", HEADER + GOOD)
    first = ingest_file(con, customers, path, "customers/crm_customers.csv")
    second = ingest_file(con, customers, path, "customers/crm_customers.csv")
    assert (first.status, second.status) == ("loaded", "unchanged")
    assert rows(con, "SELECT count(*) FROM raw.crm_customers") == [(1,)]


def test_corrected_redelivery_replaces_the_earlier_rows(tmp_path, con, customers):
    path = land(
        tmp_path, "customers/crm_customers.csv", HEADER + GOOD + GOOD.replace("1,Ada", "1,Eve")
    )
    assert ingest_file(con, customers, path, "customers/crm_customers.csv").quarantined == 1
    path.write_text(HEADER + GOOD + GOOD.replace("1,", "2,", 1).replace(".1@", ".2@"))
    result = ingest_file(con, customers, path, "customers/crm_customers.csv")
    assert (result.accepted, result.quarantined) == (2, 0)
    assert rows(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]
    assert rows(con, "SELECT count(*) FROM quarantine.crm_customers") == [(0,)]


def test_primary_key_seen_in_another_file_is_quarantined(tmp_path, con, customers):
    a = land(tmp_path, "customers/crm_customers_a.csv", HEADER + GOOD)
    b = land(tmp_path, "customers/crm_customers_b.csv", HEADER + GOOD.replace("Ada", "Eve"))
    ingest_file(con, customers, a, "customers/crm_customers_a.csv")
    result = ingest_file(con, customers, b, "customers/crm_customers_b.csv")
    assert (result.accepted, result.quarantined) == (0, 1)
    [(reason,)] = rows(con, "SELECT _reason FROM quarantine.crm_customers")
    assert "already ingested from another file" in reason


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("crm_customers_empty.csv", b"", "empty file (0 bytes)"),
        ("crm_customers_header.csv", HEADER.encode(), "empty file (no data rows)"),
        (
            "crm_customers_utf.csv",
            (HEADER + "3,J\xff\xfe").encode("latin-1") + b",x,,,,,\n",
            "cannot read csv",
        ),
        ("crm_customers_cols.csv", b"customer_id,mail\n1,a@b.de\n", "missing column(s) first_name"),
    ],
)
def test_unreadable_file_is_rejected_whole_with_reason(
    tmp_path, con, customers, name, content, words
):
    path = land(tmp_path, f"customers/{name}", content)
    result = ingest_file(con, customers, path, f"customers/{name}")
    assert result.status == "rejected" and words in result.reason
    assert (result.accepted, result.quarantined) == (0, 0)
    assert rows(con, "SELECT status, reason FROM meta.ingest_log")[0][0] == "rejected"


def test_truncated_parquet_is_rejected(tmp_path, con):
    shape = load_source_shape(REPO / "contracts", "sales", "erp_orders")
    table = pa.table({
        "order_id": [1, 2], "customer_id": [1, 2],
        "ordered_at": pa.array([0, 0], pa.timestamp("us")),
        "channel": ["web", "app"], "status": ["completed", "completed"],
    })  # fmt: skip
    path = tmp_path / "orders_2026-01.parquet"
    pq.write_table(table, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = ingest_file(con, shape, path, "sales/orders_2026-01.parquet")
    assert result.status == "rejected" and "cannot read parquet" in result.reason


def test_malformed_json_line_rejects_the_file_rather_than_dropping_the_line(tmp_path, con):
    shape = load_source_shape(REPO / "contracts", "web", "tracking_events")
    good = {"event_id": "e1", "event_type": "view", "customer_id": 1, "session_id": "s",
            "product_id": 3, "occurred_at": "2026-01-01T10:00:00", "device": "mobile"}  # fmt: skip
    path = land(tmp_path, "web/events_2026-01.jsonl", json.dumps(good) + "\n{not json\n")
    result = ingest_file(con, shape, path, "web/events_2026-01.jsonl")
    assert result.status == "rejected" and "cannot read json" in result.reason


def test_enumeration_and_range_rules_come_from_the_contract(tmp_path, con):
    shape = load_source_shape(REPO / "contracts", "sales", "erp_order_lines")
    table = pa.table({"order_id": [1, 1, 1], "line_number": pa.array([1, 2, 3], pa.int32()),
                      "product_id": [5, 5, 5], "quantity": pa.array([2, -1, 0], pa.int32()),
                      "unit_price": [1.0, 1.0, 1.0], "discount_pct": [0.0, 0.0, 0.0],
                      "promotion_id": pa.array([None, None, None], pa.int64())})  # fmt: skip
    path = tmp_path / "order_lines_2026-01.parquet"
    pq.write_table(table, path)
    result = ingest_file(con, shape, path, "sales/order_lines_2026-01.parquet")
    assert (result.received, result.accepted, result.quarantined) == (3, 1, 2)
    reasons = [r[0] for r in rows(con, "SELECT _rule FROM quarantine.erp_order_lines")]
    assert reasons == ["erp_order_lines.quantity.minimum"] * 2
