select
    cast(order_id as bigint) as order_id,
    cast(customer_id as bigint) as customer_id,
    cast(ordered_at as timestamp) as ordered_at,
    lower(channel) as channel,
    lower(status) as status
from {{ source('raw', 'erp_orders') }}
