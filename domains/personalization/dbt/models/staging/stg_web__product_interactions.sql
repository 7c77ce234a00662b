select customer_id, product_id, event_date, views, add_to_carts
from {{ source('web', 'product_interactions') }}
