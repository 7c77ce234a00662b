select
    promotion_id,
    promotion_name,
    category,
    discount_pct,
    starts_on,
    ends_on
from {{ ref('stg_pim__promotions') }}
