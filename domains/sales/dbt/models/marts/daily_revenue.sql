-- Completed orders only: returns and cancellations are not revenue.
select
    l.order_date,
    coalesce(p.category, 'unknown') as category,
    count(distinct l.order_id) as orders,
    cast(sum(l.quantity) as bigint) as units,
    cast(sum(l.line_revenue) as decimal(14, 2)) as revenue,
    count(distinct l.customer_id) as customers
from {{ ref('order_lines') }} as l
left join {{ ref('stg_catalog__products') }} as p using (product_id)
where l.status = 'completed'
group by all
order by l.order_date, category
