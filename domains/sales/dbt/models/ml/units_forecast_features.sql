-- Point-in-time features of the units forecast: for each as-of date (a forecast made that
-- morning), each category and each day of the horizon units_forecast_model.yaml declares (7).
-- Every feature uses only days before the as-of date; the label is the units then sold on
-- forecast_date (NULL when not yet observed). As-of dates are weekly, back from the data end
-- (the first day without orders): the data end itself is the forecast made now (scored by the
-- champion), the earlier ones train and evaluate.
{{ config(materialized='table') }}

with daily as (
    select * from {{ ref('int_category_units_daily') }}
),

bounds as (
    select max(order_date) + 1 as data_end from daily
),

as_of as (
    select cast(data_end - cast(7 * k as integer) as date) as as_of_date
    from bounds, range(0, {{ var('units_forecast_weeks', 52) }} + 1) as t(k)
),

grid as (
    select
        c.category,
        cast(a.as_of_date + t.h as date) as forecast_date,
        a.as_of_date,
        t.h + 1 as days_ahead
    from as_of as a
    cross join (select distinct category from daily) as c
    cross join (
        select cast(h as integer) as h
        from range(0, {{ var('mesh_models')['units_forecast_model']['horizon_days'] }}) as t(h)
    ) as t
),

recent as (
    select
        a.as_of_date,
        d.category,
        avg(d.units) filter (d.order_date >= a.as_of_date - 7) as mean_units_7d,
        avg(d.units) filter (d.order_date >= a.as_of_date - 28) as mean_units_28d,
        avg(d.units) as mean_units_364d
    from as_of as a
    inner join daily as d
        on d.order_date >= a.as_of_date - 364 and d.order_date < a.as_of_date
    group by all
)

select
    g.category,
    g.forecast_date,
    g.as_of_date,
    g.days_ahead,
    isodow(g.forecast_date) as day_of_week,
    month(g.forecast_date) as month_of_year,
    lag7.units as units_same_day_last_week,
    lag14.units as units_same_day_2_weeks_ago,
    (lag7.units + lag14.units + lag21.units + lag28.units) / 4.0 as mean_units_same_weekday_4w,
    r.mean_units_7d,
    r.mean_units_28d,
    r.mean_units_364d,
    lag364.units as units_same_day_last_year,
    y.units
from grid as g
left join recent as r using (as_of_date, category)
left join daily as lag7
    on lag7.category = g.category and lag7.order_date = g.forecast_date - 7
left join daily as lag14
    on lag14.category = g.category and lag14.order_date = g.forecast_date - 14
left join daily as lag21
    on lag21.category = g.category and lag21.order_date = g.forecast_date - 21
left join daily as lag28
    on lag28.category = g.category and lag28.order_date = g.forecast_date - 28
left join daily as lag364
    on lag364.category = g.category and lag364.order_date = g.forecast_date - 364
left join daily as y
    on y.category = g.category and y.order_date = g.forecast_date
where g.as_of_date > (select min(order_date) from daily)
