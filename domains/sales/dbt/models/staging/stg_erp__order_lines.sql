select
    cast(order_id as bigint) as order_id,
    cast(line_number as integer) as line_number,
    cast(product_id as bigint) as product_id,
    cast(quantity as integer) as quantity,
    cast(unit_price as decimal(10, 2)) as unit_price,
    cast(coalesce(discount_pct, 0) as double) as discount_pct,
    cast(promotion_id as bigint) as promotion_id
from {{ source('raw', 'erp_order_lines') }}
