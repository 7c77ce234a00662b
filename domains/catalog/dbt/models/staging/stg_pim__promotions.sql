select
    cast(promotion_id as bigint) as promotion_id,
    promotion_name,
    lower(category) as category,
    cast(discount_pct as double) as discount_pct,
    cast(starts_on as date) as starts_on,
    cast(ends_on as date) as ends_on
from {{ source('raw', 'pim_promotions') }}
