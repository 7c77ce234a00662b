select
    event_id,
    lower(event_type) as event_type,
    customer_id,
    session_id,
    product_id,
    cast(occurred_at as timestamp) as occurred_at,
    lower(device) as device
from {{ source('raw', 'tracking_events') }}
