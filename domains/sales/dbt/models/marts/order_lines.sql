select
    l.order_id,
    l.line_number,
    o.customer_id,
    l.product_id,
    o.ordered_at,
    cast(o.ordered_at as date) as order_date,
    o.channel,
    o.status,
    l.quantity,
    l.unit_price,
    l.discount_pct,
    l.promotion_id,
    cast(l.quantity * l.unit_price as decimal(12, 2)) as line_revenue
from {{ ref('stg_erp__order_lines') }} as l
inner join {{ ref('stg_erp__orders') }} as o using (order_id)
