-- Promotions are scheduled ahead: a day's entry in the calendar is known on that day.
select promotion_id, category, discount_pct, starts_on, ends_on
from {{ source('catalog', 'promotions') }}
