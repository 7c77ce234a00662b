-- Cancelled orders carry no purchase signal.
select
    order_id, customer_id, product_id, ordered_at, order_date, quantity, unit_price, discount_pct,
    line_revenue, promotion_id
from {{ source('sales', 'order_lines') }}
where status <> 'cancelled'
