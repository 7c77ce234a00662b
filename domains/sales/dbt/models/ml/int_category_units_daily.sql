-- Units sold per category and day over the whole observed window, zero on days without sales, so
-- lags are counted in calendar days. Completed orders only, as in daily_revenue.
with bounds as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('order_lines') }}
),

days as (
    select cast(d as date) as order_date
    from bounds, range(first_day, last_day + interval 1 day, interval 1 day) as t(d)
),

categories as (
    select distinct category from {{ ref('daily_revenue') }}
)

select
    d.order_date,
    c.category,
    coalesce(r.units, 0) as units
from days as d
cross join categories as c
left join {{ ref('daily_revenue') }} as r using (order_date, category)
