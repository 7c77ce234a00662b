"""Point-in-time churn and ranking training sets, computed in DuckDB SQL from the ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from mesh_platform.ml import feature_sql

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
    lines = feature_sql.LINES.format(order_lines=sources.order_lines, products=sources.products)
    sql = feature_sql.CHURN_SQL.format(
        lines=lines,
        interactions=sources.interactions,
        customers=sources.customers,
        horizon=int(horizon_days),
    )
    return con.execute(sql, _dates(as_of_dates)).df()


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
    lines = feature_sql.LINES.format(order_lines=sources.order_lines, products=sources.products)
    promo = feature_sql.PROMO_CALENDAR if sources.promotions else feature_sql.PROMO_FROM_LINES
    sql = feature_sql.RANKER_SQL.format(
        lines=lines,
        products=sources.products,
        interactions=sources.interactions,
        promo=promo.format(promotions=sources.promotions),
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
        landing: Directory written by ``mesh_demo.generate.generate``.

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
