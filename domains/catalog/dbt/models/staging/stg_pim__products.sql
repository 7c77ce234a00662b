select
    cast(product_id as bigint) as product_id,
    sku,
    product_name,
    lower(category) as category,
    brand,
    cast(list_price as decimal(10, 2)) as list_price,
    cast(launched_on as date) as launched_on
from {{ source('raw', 'pim_products') }}
