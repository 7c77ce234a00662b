{{ config(materialized='view') }}

-- Purchased order lines with the product's category; money as DECIMAL, so that sums stay
-- bit-for-bit reproducible under DuckDB's parallel aggregation.
select
    l.order_id,
    l.customer_id,
    l.product_id,
    l.order_date,
    l.quantity,
    l.promotion_id,
    l.discount_pct,
    cast(l.line_revenue as decimal(18, 2)) as revenue,
    cast(l.unit_price as decimal(18, 2)) as unit_price,
    p.category
from {{ ref('stg_sales__order_lines') }} as l
inner join {{ ref('stg_catalog__products') }} as p using (product_id)
