select product_id, category, list_price, launched_on
from {{ source('catalog', 'products') }}
