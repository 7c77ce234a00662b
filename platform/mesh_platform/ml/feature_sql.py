"""DuckDB SQL templates behind the churn and ranking training sets (see `features`)."""

from __future__ import annotations

# Money is summed as DECIMAL so DuckDB's parallel aggregation stays bit-for-bit reproducible.
LINES = """
  lines AS (
    SELECT l.order_id, l.customer_id, l.product_id, l.order_date, l.quantity, l.promotion_id,
           l.discount_pct, CAST(l.line_revenue AS DECIMAL(18, 2)) AS revenue,
           CAST(l.unit_price AS DECIMAL(18, 2)) AS unit_price, p.category
    FROM {order_lines} AS l JOIN {products} AS p USING (product_id)
    WHERE l.status <> 'cancelled'),
  as_of AS (SELECT unnest($dates::DATE[]) AS as_of)"""

CHURN_SQL = """
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

# Promotions are scheduled ahead, so the calendar's entry for the as-of day is known then.
PROMO_CALENDAR = """
    SELECT a.as_of, p.category, max(p.discount_pct) AS promo_discount
    FROM {promotions} AS p JOIN as_of AS a ON a.as_of BETWEEN p.starts_on AND p.ends_on
    GROUP BY ALL"""
PROMO_FROM_LINES = """
    SELECT a.as_of, l.category, max(l.discount_pct) AS promo_discount
    FROM lines AS l JOIN as_of AS a ON l.order_date = a.as_of - 1 GROUP BY ALL"""

RANKER_SQL = """
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
