"""Tests for the synthetic web-shop generator (small scales for speed)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mesh_demo.generate import GenerationSummary, generate

SCALE = 0.1
# The reference window of the tests below: data end on a fixed day (the default is today, UTC),
# so their literal dates hold whenever they run; test_end_date_* cover other end dates.
END = date(2026, 10, 31)
MONTHS = [f"2024-{m:02d}" for m in (11, 12)] + [f"2025-{m:02d}" for m in range(1, 13)]
MONTHS += [f"2026-{m:02d}" for m in range(1, 11)]

PRODUCTS_SCHEMA = pa.schema(
    [
        ("product_id", pa.int64()),
        ("sku", pa.string()),
        ("product_name", pa.string()),
        ("category", pa.string()),
        ("brand", pa.string()),
        ("list_price", pa.float64()),
        ("launched_on", pa.date32()),
    ]
)
PROMOTIONS_SCHEMA = pa.schema(
    [
        ("promotion_id", pa.int64()),
        ("promotion_name", pa.string()),
        ("category", pa.string()),
        ("discount_pct", pa.float64()),
        ("starts_on", pa.date32()),
        ("ends_on", pa.date32()),
    ]
)
ORDERS_SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("ordered_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("status", pa.string()),
    ]
)
LINES_SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("line_number", pa.int32()),
        ("product_id", pa.int64()),
        ("quantity", pa.int32()),
        ("unit_price", pa.float64()),
        ("discount_pct", pa.float64()),
        ("promotion_id", pa.int64()),
    ]
)
CSV_HEADER = (
    "customer_id,first_name,last_name,email,birth_date,city,country,signup_date,marketing_opt_in"
)
EVENT_KEYS = [
    "event_id",
    "event_type",
    "customer_id",
    "session_id",
    "product_id",
    "occurred_at",
    "device",
]


EVENT_COLUMNS = {
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "customer_id": "BIGINT",
    "session_id": "VARCHAR",
    "product_id": "BIGINT",
    "occurred_at": "VARCHAR",
    "device": "VARCHAR",
}


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, GenerationSummary]:
    root = tmp_path_factory.mktemp("landing")
    calls: list[tuple[str, int, int]] = []
    summary = generate(
        root, scale=SCALE, seed=42, progress=lambda *a: calls.append(a), end_date=END
    )
    assert calls[-1][1] == calls[-1][2] == len(calls)
    return root, summary


@pytest.fixture(scope="module")
def con(landing) -> duckdb.DuckDBPyConnection:
    root = landing[0].as_posix()
    c = duckdb.connect()
    c.execute(f"""
        CREATE VIEW customers AS SELECT * FROM read_csv('{root}/customers/crm_customers.csv');
        CREATE VIEW products AS SELECT * FROM '{root}/catalog/products.parquet';
        CREATE VIEW promotions AS SELECT * FROM '{root}/catalog/promotions.parquet';
        CREATE VIEW orders AS SELECT * FROM '{root}/sales/orders_*.parquet';
        CREATE VIEW order_lines AS SELECT * FROM '{root}/sales/order_lines_*.parquet';
        CREATE VIEW events AS SELECT * FROM read_json('{root}/web/events_*.jsonl',
            format = 'newline_delimited', columns = {EVENT_COLUMNS});
        CREATE VIEW lines AS
            SELECT l.*, o.customer_id, o.ordered_at, p.category
            FROM order_lines l JOIN orders o USING (order_id) JOIN products p USING (product_id);
    """)
    return c


def _one(con, sql: str):
    return con.execute(sql).fetchone()


def test_same_seed_is_byte_identical_and_overwrites(landing, tmp_path):
    root, _ = landing
    again = tmp_path / "again"
    generate(again, scale=SCALE, seed=42, end_date=END)
    assert _hashes(again) == _hashes(root)
    # A second run into a populated directory overwrites its own files identically.
    (again / "unrelated.txt").write_text("keep me")
    generate(again, scale=SCALE, seed=42, end_date=END)
    hashes = _hashes(again)
    assert hashes.pop("unrelated.txt")
    assert hashes == _hashes(root)


def test_different_seed_gives_different_data(landing, tmp_path):
    root, _ = landing
    other = _hashes(generate_dir(tmp_path / "other", seed=7))
    same = _hashes(root)
    assert other.keys() == same.keys()
    assert other["sales/order_lines_2025-06.parquet"] != same["sales/order_lines_2025-06.parquet"]
    assert other["customers/crm_customers.csv"] != same["customers/crm_customers.csv"]


def generate_dir(path: Path, seed: int) -> Path:
    generate(path, scale=SCALE, seed=seed, end_date=END)
    return path


def test_files_and_summary_match(landing, con):
    root, summary = landing
    expected = {"customers/crm_customers.csv", "catalog/products.parquet"}
    expected |= {"catalog/promotions.parquet"}
    for m in MONTHS:
        expected |= {f"sales/orders_{m}.parquet", f"sales/order_lines_{m}.parquet"}
        expected |= {f"web/events_{m}.jsonl"}
    assert set(summary.files) == expected == set(_hashes(root))
    for entity in ("customers", "products", "promotions", "orders", "order_lines", "events"):
        assert summary.rows[entity] == _one(con, f"SELECT count(*) FROM {entity}")[0], entity
    lines = pq.read_table(root / "sales/order_lines_2025-03.parquet").num_rows
    assert summary.files["sales/order_lines_2025-03.parquet"] == lines
    with open(root / "web/events_2025-03.jsonl") as f:
        assert summary.files["web/events_2025-03.jsonl"] == sum(1 for _ in f)
    assert summary.seconds > 0


def test_parquet_schemas(landing):
    root, _ = landing
    assert pq.read_schema(root / "catalog/products.parquet").remove_metadata() == PRODUCTS_SCHEMA
    assert (
        pq.read_schema(root / "catalog/promotions.parquet").remove_metadata() == PROMOTIONS_SCHEMA
    )
    for m in MONTHS:
        assert pq.read_schema(root / f"sales/orders_{m}.parquet").remove_metadata() == ORDERS_SCHEMA
        lines = pq.read_schema(root / f"sales/order_lines_{m}.parquet").remove_metadata()
        assert lines == LINES_SCHEMA


def test_customers_csv(landing, con):
    root, _ = landing
    assert (root / "customers/crm_customers.csv").read_text().splitlines()[0] == CSV_HEADER
    n, ids, emails, max_id = _one(
        con,
        "SELECT count(*), count(DISTINCT customer_id), count(DISTINCT email), max(customer_id)"
        " FROM customers",
    )
    assert n == ids == emails == max_id >= 200
    bad = _one(
        con,
        """SELECT count(*) FROM customers WHERE email <> lower(email)
           OR NOT regexp_matches(email, '^[a-z]+\\.[a-z]+\\.[0-9]+@example\\.com$')
           OR length(country) <> 2 OR marketing_opt_in NOT IN (true, false)
           OR signup_date > DATE '2026-10-31' OR birth_date >= signup_date""",
    )[0]
    assert bad == 0
    late_signups = _one(con, "SELECT count(*) FROM customers WHERE signup_date >= '2024-11-01'")
    assert late_signups[0] > n * 0.2
    first_order_before_signup = _one(
        con,
        """SELECT count(*) FROM customers c
           JOIN (SELECT customer_id, min(ordered_at) AS first FROM orders GROUP BY 1) o
           USING (customer_id) WHERE c.signup_date > CAST(o.first AS DATE)""",
    )[0]
    assert first_order_before_signup == 0


def test_catalog_values(con):
    cats = [r[0] for r in con.execute("SELECT DISTINCT category FROM products").fetchall()]
    assert len(cats) == 12 and {"electronics", "books", "grocery", "music"} <= set(cats)
    assert _one(con, "SELECT count(*) = count(DISTINCT sku) FROM products")[0]
    assert _one(
        con,
        "SELECT min(list_price) > 0 AND max(list_price) = max(round(list_price, 2)) FROM products",
    )[0]
    lo, hi, bad_dates = _one(
        con,
        "SELECT min(discount_pct), max(discount_pct), count(*) FILTER (ends_on < starts_on)"
        " FROM promotions",
    )
    assert lo >= 0.05 and hi <= 0.40 and bad_dates == 0
    black_friday = _one(
        con,
        "SELECT count(DISTINCT category) FROM promotions WHERE promotion_name LIKE 'Black%2025%'",
    )
    assert black_friday[0] >= 4


def test_sales_integrity(con):
    n, distinct = _one(con, "SELECT count(*), count(DISTINCT order_id) FROM orders")
    assert n == distinct > 0
    orphans = _one(
        con, "SELECT count(*) FROM order_lines WHERE order_id NOT IN (SELECT order_id FROM orders)"
    )[0]
    assert orphans == 0
    assert (
        _one(
            con,
            "SELECT count(*) FROM order_lines WHERE product_id NOT IN "
            "(SELECT product_id FROM products)",
        )[0]
        == 0
    )
    assert (
        _one(
            con,
            "SELECT count(*) FROM orders WHERE customer_id NOT IN "
            "(SELECT customer_id FROM customers)",
        )[0]
        == 0
    )
    assert _one(con, "SELECT count(*) FROM order_lines WHERE quantity < 1")[0] == 0
    # Lines are numbered 1..n within each order.
    assert (
        _one(
            con,
            """SELECT count(*) FROM (SELECT order_id, max(line_number) m, count(*) c,
        count(DISTINCT line_number) d FROM order_lines GROUP BY 1) WHERE m <> c OR d <> c""",
        )[0]
        == 0
    )
    mismatched_price = _one(
        con,
        """SELECT count(*) FROM order_lines l JOIN products p USING
        (product_id) WHERE abs(l.unit_price - round(p.list_price * (1 - l.discount_pct), 2)) > 1e-9
        OR (l.promotion_id IS NULL) <> (l.discount_pct = 0)""",
    )[0]
    assert mismatched_price == 0
    span = _one(con, "SELECT min(ordered_at), max(ordered_at) FROM orders")
    assert str(span[0]) >= "2024-11-01" and str(span[1]) < "2026-11-01"
    assert {r[0] for r in con.execute("SELECT DISTINCT channel FROM orders").fetchall()} == {
        "web",
        "app",
        "store",
    }
    statuses = dict(con.execute("SELECT status, count(*) FROM orders GROUP BY 1").fetchall())
    assert set(statuses) == {"completed", "returned", "cancelled"}
    assert statuses["completed"] > 0.8 * n


def test_events(landing, con):
    root, _ = landing
    for line in (root / "web/events_2025-05.jsonl").read_text().splitlines()[:2000]:
        event = json.loads(line)
        assert list(event) == EVENT_KEYS
        assert isinstance(event["product_id"], int)
        assert event["customer_id"] is None or isinstance(event["customer_id"], int)
        assert all(isinstance(event[k], str) for k in EVENT_KEYS if not k.endswith("_id"))
    n, ids, anon, lines = _one(
        con,
        """SELECT count(*), count(DISTINCT event_id),
        avg((customer_id IS NULL)::INT), (SELECT count(*) FROM order_lines) FROM events""",
    )
    assert n == ids and 0.05 < anon < 0.15 and 1.8 < n / lines < 3.5
    assert (
        _one(
            con,
            "SELECT count(*) FROM events WHERE product_id NOT IN (SELECT product_id FROM products)",
        )[0]
        == 0
    )
    types = {r[0] for r in con.execute("SELECT DISTINCT event_type FROM events").fetchall()}
    devices = {r[0] for r in con.execute("SELECT DISTINCT device FROM events").fetchall()}
    assert types == {"view", "add_to_cart"} and devices == {"desktop", "mobile", "tablet"}
    bad_ts = _one(
        con,
        """SELECT count(*) FROM events WHERE NOT regexp_matches(occurred_at,
        '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d$') OR occurred_at < '2024-11-01'
        OR occurred_at >= '2026-11'""",
    )[0]
    assert bad_ts == 0
    # Every purchased product was viewed by the buyer in the same month beforehand.
    unviewed = _one(
        con,
        """SELECT count(*) FROM lines l WHERE NOT EXISTS (SELECT 1 FROM events e
        WHERE e.customer_id = l.customer_id AND e.product_id = l.product_id
        AND e.event_type = 'view' AND CAST(e.occurred_at AS TIMESTAMP) <= l.ordered_at
        AND CAST(e.occurred_at AS TIMESTAMP) >= l.ordered_at - INTERVAL 1 DAY)""",
    )[0]
    assert unviewed == 0


def test_order_lines_scale_with_scale(landing, tmp_path):
    _, small = landing
    big = generate(tmp_path / "big", scale=2 * SCALE, seed=42, end_date=END)
    ratio = big.rows["order_lines"] / small.rows["order_lines"]
    assert 1.5 < ratio < 2.5


def test_signal_customers_stick_to_their_top_category(con):
    own, top = _one(
        con,
        """
        WITH hist AS (SELECT customer_id, category, count(*) AS n FROM lines
                      WHERE ordered_at < '2026-05-01' GROUP BY 1, 2),
        eligible AS (SELECT customer_id, arg_max(category, n) AS fav FROM hist
                     GROUP BY 1 HAVING sum(n) >= 5),
        popular AS (SELECT arg_max(category, n) AS cat FROM
                    (SELECT category, sum(n) AS n FROM hist GROUP BY 1))
        SELECT avg((l.category = e.fav)::INT), avg((l.category = (SELECT cat FROM popular))::INT)
        FROM lines l JOIN eligible e USING (customer_id) WHERE l.ordered_at >= '2026-05-01'""",
    )
    print(f"own top category share {own:.3f} vs most popular category share {top:.3f}")
    assert own > 2 * top


def test_signal_promotions_lift_category_sales(con):
    rates = dict(
        con.execute("""
        WITH days AS (SELECT c.category, CAST(d AS DATE) AS day
            FROM (SELECT DISTINCT category FROM products) c
            CROSS JOIN range(TIMESTAMP '2024-11-01', TIMESTAMP '2026-11-01', INTERVAL 1 DAY) t(d)),
        promoted AS (SELECT DISTINCT d.category, d.day FROM days d JOIN promotions p
            ON d.category = p.category AND d.day BETWEEN p.starts_on AND p.ends_on),
        daily AS (SELECT category, CAST(ordered_at AS DATE) AS day, count(*) AS n
            FROM lines GROUP BY 1, 2)
        SELECT p.day IS NOT NULL, avg(coalesce(n, 0)) FROM days d
        LEFT JOIN daily USING (category, day) LEFT JOIN promoted p USING (category, day)
        GROUP BY 1""").fetchall()
    )
    print(f"daily category lines: promoted {rates[True]:.2f} vs not {rates[False]:.2f}")
    assert rates[True] > 1.4 * rates[False]


def test_signal_frequent_customers_churn_less(con):
    rows = con.execute("""
        WITH f AS (SELECT c.customer_id,
            count(o.order_id) FILTER (o.ordered_at < '2025-11-01') AS first_year,
            count(o.order_id) FILTER (o.ordered_at >= '2026-05-01') AS last_6m
            FROM customers c LEFT JOIN orders o USING (customer_id)
            WHERE c.signup_date < '2024-11-01' GROUP BY 1)
        SELECT first_year >= 6 AS frequent, avg((last_6m = 0)::INT), count(*) FROM f
        WHERE first_year > 0 GROUP BY 1""").fetchall()
    lapsed = {frequent: share for frequent, share, _ in rows}
    print(
        f"no orders in last 6 months: frequent {lapsed[True]:.2f}, occasional {lapsed[False]:.2f}"
    )
    assert lapsed[True] < 0.6 * lapsed[False]


def test_rejects_non_positive_scale(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0)


def test_end_date_ends_the_data_on_that_day(tmp_path):
    """A window cut mid-month: 24 calendar months, the last up to the end date."""
    end = date(2026, 11, 15)
    summary = generate(tmp_path / "a", scale=SCALE, seed=42, end_date=end)
    assert summary.end_date == "2026-11-15"
    months = sorted({f.rsplit("_", 1)[1][:7] for f in summary.files if f.startswith("sales/")})
    assert (months[0], months[-1], len(months)) == ("2024-12", "2026-11", 24)
    root = (tmp_path / "a").as_posix()
    con = duckdb.connect()
    first, last = _one(con, f"SELECT min(ordered_at)::DATE, max(ordered_at)::DATE "
                            f"FROM '{root}/sales/orders_*.parquet'")  # fmt: skip
    assert (str(first)[:7], last) == ("2024-12", end)
    newest_event = _one(
        con,
        f"SELECT max(occurred_at) FROM read_json('{root}/web/events_*.jsonl',"
        f" format = 'newline_delimited', columns = {EVENT_COLUMNS})",
    )[0]
    assert newest_event.startswith("2026-11-15")
    late = _one(con, f"SELECT count(*) FROM '{root}/catalog/promotions.parquet' "
                     f"WHERE ends_on > DATE '{end}' OR starts_on > ends_on")[0]  # fmt: skip
    assert late == 0
    signup = _one(
        con, f"SELECT max(signup_date) FROM read_csv('{root}/customers/crm_customers.csv')"
    )
    assert signup[0] <= end


def test_end_date_same_seed_and_day_same_bytes_another_day_other_data(landing, tmp_path):
    end = date(2026, 11, 15)
    generate(tmp_path / "a", scale=SCALE, seed=42, end_date=end)
    generate(tmp_path / "b", scale=SCALE, seed=42, end_date=end)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert _hashes(tmp_path / "a") != _hashes(landing[0])


def test_end_date_defaults_to_today_utc(tmp_path, monkeypatch):
    monkeypatch.delenv("MESH_DEMO_END_DATE", raising=False)  # the suite's reference day
    before = datetime.now(UTC).date()
    summary = generate(tmp_path, scale=SCALE, seed=42)
    assert summary.end_date in {str(before), str(datetime.now(UTC).date())}


def test_mesh_demo_end_date_sets_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("MESH_DEMO_END_DATE", "2026-11-15")
    assert generate(tmp_path, scale=SCALE, seed=42).end_date == "2026-11-15"
