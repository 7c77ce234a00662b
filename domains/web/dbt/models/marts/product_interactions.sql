select
    customer_id,
    product_id,
    cast(occurred_at as date) as event_date,
    count(*) filter (where event_type = 'view') as views,
    count(*) filter (where event_type = 'add_to_cart') as add_to_carts
from {{ ref('stg_tracking__events') }}
where customer_id is not null
group by all
