select
    product_id,
    sku,
    product_name,
    category,
    brand,
    list_price,
    launched_on
from {{ ref('stg_pim__products') }}
