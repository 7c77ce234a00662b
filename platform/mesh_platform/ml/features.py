"""Point-in-time churn and ranking training sets, computed in DuckDB SQL from the ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

CHURN_FEATURES = [
    "recency_days", "first_order_days", "orders_30d", "orders_90d", "orders_180d",
    "orders_365d", "orders_total", "revenue_365d", "avg_order_value", "promotion_order_share",
    "top_category_share", "distinct_categories", "views_30d", "add_to_carts_30d",
    "tenure_days", "age",
]  # fmt: skip
RANKER_FEATURES = [
    "category_share", "category_recency_days", "product_popularity_90d", "category_rank",
    "price_vs_customer", "price_vs_category", "customer_price_index", "promo_discount",
    "product_views_30d", "product_carts_30d", "category_views_30d", "category_carts_30d",
    "product_bought_before",
]  # fmt: skip
MAX_RELEVANCE = 3


@dataclass(frozen=True)
class FeatureSources:
    """SQL relation expressions of the input ports, e.g. ``read_parquet('<lake>/...')``.

    Columns follow the port contracts. ``promotions`` is optional: without it the promotion
    feature falls back to discounts seen on the category's order lines the day before as-of.
    """

    order_lines: str
    customers: str
    interactions: str
    products: str
    promotions: str | None = None


@dataclass(frozen=True)
class TimeSplit:
    """As-of dates to train on and the later, non-overlapping as-of date to evaluate on."""

    train: list[date]
    evaluate: date


def time_split(as_of_dates: list[date], horizon_days: int, data_end: date) -> TimeSplit:
    """Evaluate on the last as-of date whose label horizon fits, train on what precedes it.

    Training snapshots keep only those whose label window closes by the evaluation as-of date,
    so no training label looks into the evaluation window. Applying this again to ``train``
    with ``data_end=evaluate`` carves a validation split out of the training period.

    Args:
        as_of_dates: Candidate snapshot dates.
        horizon_days: Label horizon of the task.
        data_end: First day without data (exclusive end of the observed window).

    Returns:
        The split.

    Raises:
        ValueError: If no date fits, or nothing is left to train on.

    """
    horizon = timedelta(days=horizon_days)
    fits = sorted(d for d in set(as_of_dates) if d + horizon <= data_end)
    if not fits:
        raise ValueError(f"no as-of date has a full {horizon_days}-day horizon before {data_end}")
    evaluate = fits[-1]
    train = [d for d in fits if d + horizon <= evaluate]
    if not train:
        raise ValueError(f"no training as-of date ends its horizon by {evaluate}")
    return TimeSplit(train=train, evaluate=evaluate)


def rows_at(df: pd.DataFrame, dates: list[date] | date) -> pd.DataFrame:
    """Select the rows of a dataset whose ``as_of_date`` is one of ``dates``.

    Args:
        df: Output of ``churn_dataset`` or ``ranker_dataset`` (pandas reads DATE as datetime).
        dates: One date or several.

    Returns:
        The matching rows, order kept.

    """
    wanted = [dates] if isinstance(dates, date) else list(dates)
    return df.loc[df["as_of_date"].isin(list(pd.to_datetime(wanted)))]


def data_end(con: duckdb.DuckDBPyConnection, sources: FeatureSources) -> date:
    """Return the day after the last order date: the exclusive end of the observed window."""
    row = con.execute(f"SELECT max(order_date) + 1 FROM {sources.order_lines}").fetchone()
    if row is None or row[0] is None:
        raise ValueError("order_lines is empty")
    return row[0]


# Money is summed as DECIMAL so DuckDB's parallel aggregation stays bit-for-bit reproducible.
_LINES = """
  lines AS (
    SELECT l.order_id, l.customer_id, l.product_id, l.order_date, l.quantity, l.promotion_id,
           l.discount_pct, CAST(l.line_revenue AS DECIMAL(18, 2)) AS revenue,
           CAST(l.unit_price AS DECIMAL(18, 2)) AS unit_price, p.category
    FROM {order_lines} AS l JOIN {products} AS p USING (product_id)
    WHERE l.status <> 'cancelled'),
  as_of AS (SELECT unnest($dates::DATE[]) AS as_of)"""

_CHURN_SQL = """
WITH {lines},
  orders AS (
    SELECT customer_id, order_id, min(order_date) AS order_date, sum(revenue) AS value,
           bool_or(promotion_id IS NOT NULL)::INT AS promo
    FROM lines GROUP BY ALL),
  rfm AS (
    SELECT a.as_of, o.customer_id,
      date_diff('day', max(o.order_date), a.as_of) AS recency_days,
      date_diff('day', min(o.order_date), a.as_of) AS first_order_days,
      count(*) FILTER (o.order_date >= a.as_of - 30) AS orders_30d,
      count(*) FILTER (o.order_date >= a.as_of - 90) AS orders_90d,
      count(*) FILTER (o.order_date >= a.as_of - 180) AS orders_180d,
      count(*) FILTER (o.order_date >= a.as_of - 365) AS orders_365d,
      count(*) AS orders_total,
      coalesce(sum(o.value) FILTER (o.order_date >= a.as_of - 365), 0) AS revenue_365d,
      avg(o.value) AS avg_order_value, avg(o.promo) AS promotion_order_share
    FROM orders AS o JOIN as_of AS a ON o.order_date < a.as_of
    GROUP BY a.as_of, o.customer_id),
  cats AS (
    SELECT a.as_of, l.customer_id, l.category, count(*) AS n
    FROM lines AS l JOIN as_of AS a ON l.order_date < a.as_of GROUP BY ALL),
  conc AS (
    SELECT as_of, customer_id, max(n) / sum(n) AS top_category_share,
           count(*) AS distinct_categories
    FROM cats GROUP BY ALL),
  browse AS (
    SELECT a.as_of, i.customer_id, sum(i.views) AS views_30d,
           sum(i.add_to_carts) AS add_to_carts_30d
    FROM {interactions} AS i
    JOIN as_of AS a ON i.event_date >= a.as_of - 30 AND i.event_date < a.as_of
    GROUP BY ALL),
  active AS (
    SELECT DISTINCT a.as_of, o.customer_id FROM orders AS o
    JOIN as_of AS a ON o.order_date >= a.as_of AND o.order_date < a.as_of + {horizon})
SELECT r.customer_id, r.as_of AS as_of_date, r.recency_days, r.first_order_days,
  r.orders_30d, r.orders_90d, r.orders_180d, r.orders_365d, r.orders_total,
  CAST(r.revenue_365d AS DOUBLE) AS revenue_365d,
  CAST(r.avg_order_value AS DOUBLE) AS avg_order_value,
  CAST(r.promotion_order_share AS DOUBLE) AS promotion_order_share,
  k.top_category_share, k.distinct_categories,
  coalesce(b.views_30d, 0)::BIGINT AS views_30d,
  coalesce(b.add_to_carts_30d, 0)::BIGINT AS add_to_carts_30d,
  date_diff('day', c.signup_date, r.as_of) AS tenure_days,
  year(r.as_of) - c.birth_year AS age,
  (v.customer_id IS NULL)::INT AS churned
FROM rfm AS r
JOIN {customers} AS c USING (customer_id)
LEFT JOIN conc AS k USING (as_of, customer_id)
LEFT JOIN browse AS b USING (as_of, customer_id)
LEFT JOIN active AS v USING (as_of, customer_id)
ORDER BY as_of_date, customer_id"""


def _dates(as_of_dates: list[date]) -> dict[str, list[date]]:
    if not as_of_dates:
        raise ValueError("as_of_dates is empty")
    return {"dates": sorted(set(as_of_dates))}


def churn_dataset(
    con: duckdb.DuckDBPyConnection,
    sources: FeatureSources,
    as_of_dates: list[date],
    horizon_days: int = 90,
) -> pd.DataFrame:
    """Build one row per (customer with an order before as-of, as-of date).

    Features use only data strictly before the as-of date; the label ``churned`` is 1 when the
    customer places no (non-cancelled) order in ``[as_of, as_of + horizon_days)``.

    Args:
        con: DuckDB connection that can resolve the source expressions.
        sources: The input ports.
        as_of_dates: Snapshot dates.
        horizon_days: Label horizon in days.

    Returns:
        ``customer_id, as_of_date``, the columns of ``CHURN_FEATURES`` and ``churned``,
        sorted by as-of date then customer.

    """
    lines = _LINES.format(order_lines=sources.order_lines, products=sources.products)
    sql = _CHURN_SQL.format(
        lines=lines,
        interactions=sources.interactions,
        customers=sources.customers,
        horizon=int(horizon_days),
    )
    return con.execute(sql, _dates(as_of_dates)).df()


# Promotions are scheduled ahead, so the calendar's entry for the as-of day is known then.
_PROMO_CALENDAR = """
    SELECT a.as_of, p.category, max(p.discount_pct) AS promo_discount
    FROM {promotions} AS p JOIN as_of AS a ON a.as_of BETWEEN p.starts_on AND p.ends_on
    GROUP BY ALL"""
_PROMO_FROM_LINES = """
    SELECT a.as_of, l.category, max(l.discount_pct) AS promo_discount
    FROM lines AS l JOIN as_of AS a ON l.order_date = a.as_of - 1 GROUP BY ALL"""

_RANKER_SQL = """
WITH {lines},
  prices AS (
    SELECT a.as_of, p.product_id, CAST(p.list_price AS DOUBLE) AS list_price,
           CAST(p.list_price AS DECIMAL(18, 2)) / avg(CAST(p.list_price AS DECIMAL(18, 2)))
             OVER (PARTITION BY a.as_of, p.category) AS price_vs_category
    FROM {products} AS p JOIN as_of AS a ON p.launched_on < a.as_of),
  popular AS (
    SELECT a.as_of, l.product_id, any_value(l.category) AS category, count(*) AS n
    FROM lines AS l JOIN as_of AS a ON l.order_date >= a.as_of - 90 AND l.order_date < a.as_of
    GROUP BY ALL),
  ranked AS (
    SELECT *, row_number() OVER (PARTITION BY as_of, category ORDER BY n DESC, product_id)
              AS category_rank,
           row_number() OVER (PARTITION BY as_of ORDER BY n DESC, product_id) AS global_rank
    FROM popular),
  history AS (SELECT a.as_of, l.* FROM lines AS l JOIN as_of AS a ON l.order_date < a.as_of),
  cust AS (
    SELECT h.as_of, h.customer_id, count(*) AS lines_total, avg(h.unit_price) AS mean_price,
           avg(CAST(p.price_vs_category AS DECIMAL(18, 6)))
             AS customer_price_index_raw
    FROM history AS h JOIN prices AS p USING (as_of, product_id) GROUP BY ALL),
  cust_cat AS (
    SELECT as_of, customer_id, category, count(*) AS n,
           date_diff('day', max(order_date), as_of) AS category_recency_days,
           row_number() OVER (PARTITION BY as_of, customer_id ORDER BY count(*) DESC, category)
             AS k
    FROM history GROUP BY as_of, customer_id, category),
  candidates AS (
    SELECT c.as_of, c.customer_id, r.product_id FROM cust_cat AS c
    JOIN ranked AS r ON r.as_of = c.as_of AND r.category = c.category
    WHERE c.k <= 3 AND r.category_rank <= {per_category}
    UNION
    SELECT c.as_of, c.customer_id, r.product_id FROM cust AS c
    JOIN ranked AS r ON r.as_of = c.as_of AND r.global_rank <= {global_top}),
  bought AS (
    SELECT as_of, customer_id, product_id, count(*) AS product_bought_before
    FROM history GROUP BY ALL),
  web AS (
    SELECT a.as_of, i.customer_id, i.product_id, p.category, sum(i.views) AS views,
           sum(i.add_to_carts) AS carts
    FROM {interactions} AS i JOIN {products} AS p USING (product_id)
    JOIN as_of AS a ON i.event_date >= a.as_of - 30 AND i.event_date < a.as_of GROUP BY ALL),
  web_cat AS (
    SELECT as_of, customer_id, category, sum(views) AS views, sum(carts) AS carts
    FROM web GROUP BY ALL),
  promo AS ({promo}),
  label AS (
    SELECT a.as_of, l.customer_id, l.product_id, sum(l.quantity) AS units
    FROM lines AS l
    JOIN as_of AS a ON l.order_date >= a.as_of AND l.order_date < a.as_of + {horizon}
    GROUP BY ALL)
SELECT dense_rank() OVER (ORDER BY k.as_of, k.customer_id) - 1 AS group_id,
  k.customer_id, k.as_of AS as_of_date, k.product_id,
  coalesce(cc.n, 0) / u.lines_total AS category_share,
  cc.category_recency_days,
  r.n AS product_popularity_90d, r.category_rank,
  p.list_price / CAST(u.mean_price AS DOUBLE) AS price_vs_customer, p.price_vs_category,
  CAST(u.customer_price_index_raw AS DOUBLE) AS customer_price_index,
  coalesce(pr.promo_discount, 0) AS promo_discount,
  coalesce(w.views, 0)::BIGINT AS product_views_30d,
  coalesce(w.carts, 0)::BIGINT AS product_carts_30d,
  coalesce(wc.views, 0)::BIGINT AS category_views_30d,
  coalesce(wc.carts, 0)::BIGINT AS category_carts_30d,
  coalesce(b.product_bought_before, 0) AS product_bought_before,
  least(coalesce(y.units, 0), {max_relevance})::INT AS relevance
FROM candidates AS k
JOIN ranked AS r USING (as_of, product_id)
JOIN prices AS p USING (as_of, product_id)
JOIN cust AS u USING (as_of, customer_id)
LEFT JOIN cust_cat AS cc ON cc.as_of = k.as_of AND cc.customer_id = k.customer_id
  AND cc.category = r.category
LEFT JOIN promo AS pr ON pr.as_of = k.as_of AND pr.category = r.category
LEFT JOIN web AS w ON w.as_of = k.as_of AND w.customer_id = k.customer_id
  AND w.product_id = k.product_id
LEFT JOIN web_cat AS wc ON wc.as_of = k.as_of AND wc.customer_id = k.customer_id
  AND wc.category = r.category
LEFT JOIN bought AS b ON b.as_of = k.as_of AND b.customer_id = k.customer_id
  AND b.product_id = k.product_id
LEFT JOIN label AS y ON y.as_of = k.as_of AND y.customer_id = k.customer_id
  AND y.product_id = k.product_id
ORDER BY k.as_of, k.customer_id, k.product_id"""


def ranker_dataset(
    con: duckdb.DuckDBPyConnection,
    sources: FeatureSources,
    as_of_dates: list[date],
    horizon_days: int = 30,
    per_category: int = 30,
    global_top: int = 10,
) -> pd.DataFrame:
    """Build candidate (customer, product) rows per as-of date with a graded relevance label.

    Candidates are the ``per_category`` most popular products (lines in the 90 days before
    as-of) of each of the customer's top-3 categories, plus the ``global_top`` overall.

    Args:
        con: DuckDB connection that can resolve the source expressions.
        sources: The input ports.
        as_of_dates: Snapshot dates.
        horizon_days: Label horizon in days.
        per_category: Popular products taken from each of the customer's top categories.
        global_top: Globally most popular products added for every customer.

    Returns:
        ``group_id, customer_id, as_of_date, product_id``, ``RANKER_FEATURES`` and
        ``relevance`` (units bought in the horizon, capped at ``MAX_RELEVANCE``), sorted so
        each group (customer, as-of) is contiguous.

    """
    sql = _RANKER_SQL.format(
        lines=_LINES.format(order_lines=sources.order_lines, products=sources.products),
        products=sources.products,
        interactions=sources.interactions,
        promo=(_PROMO_CALENDAR if sources.promotions else _PROMO_FROM_LINES).format(
            promotions=sources.promotions
        ),
        horizon=int(horizon_days),
        per_category=int(per_category),
        global_top=int(global_top),
        max_relevance=MAX_RELEVANCE,
    )
    return con.execute(sql, _dates(as_of_dates)).df()


def landing_sources(con: duckdb.DuckDBPyConnection, landing: Path) -> FeatureSources:
    """Expose a generator landing zone as port-shaped views (tests, benchmarks, demos).

    Args:
        con: Connection to create the views in.
        landing: Directory written by ``mesh_platform.generate.generate``.

    Returns:
        Sources naming the created views.

    """
    p = Path(landing).as_posix()
    con.execute(f"""
      CREATE OR REPLACE VIEW ml_order_lines AS
      SELECT l.order_id, l.line_number, o.customer_id, l.product_id, o.ordered_at,
             o.ordered_at::DATE AS order_date, o.channel, o.status, l.quantity,
             l.unit_price::DECIMAL(10, 2) AS unit_price, l.discount_pct, l.promotion_id,
             (l.quantity * l.unit_price)::DECIMAL(12, 2) AS line_revenue
      FROM read_parquet('{p}/sales/order_lines_*.parquet') AS l
      JOIN read_parquet('{p}/sales/orders_*.parquet') AS o USING (order_id);
      CREATE OR REPLACE VIEW ml_customers AS
      SELECT customer_id::BIGINT AS customer_id, year(birth_date::DATE)::BIGINT AS birth_year,
             country, signup_date::DATE AS signup_date
      FROM read_csv('{p}/customers/crm_customers.csv', all_varchar = true);
      CREATE OR REPLACE VIEW ml_interactions AS
      SELECT customer_id, product_id, occurred_at::DATE AS event_date,
             count(*) FILTER (event_type = 'view') AS views,
             count(*) FILTER (event_type = 'add_to_cart') AS add_to_carts
      FROM read_json('{p}/web/events_*.jsonl', format = 'newline_delimited')
      WHERE customer_id IS NOT NULL GROUP BY ALL;
      CREATE OR REPLACE VIEW ml_products AS
      SELECT * FROM read_parquet('{p}/catalog/products.parquet');
      CREATE OR REPLACE VIEW ml_promotions AS
      SELECT * FROM read_parquet('{p}/catalog/promotions.parquet');
    """)
    return FeatureSources("ml_order_lines", "ml_customers", "ml_interactions", "ml_products",
                          "ml_promotions")  # fmt: skip
