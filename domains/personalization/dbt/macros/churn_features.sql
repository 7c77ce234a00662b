{% macro churn_features(as_of_dates, horizon_days=none, customers=none) -%}
{#- One row per (customer with a purchase before the as-of date, as-of date): recency,
    frequency, monetary, category concentration, browsing and profile features, using only data
    strictly before the as-of date. Unordered: the models sort.

    as_of_dates: a SELECT with one DATE column ``as_of``.
    horizon_days: when given, adds the label ``churned``: 1 when the customer makes no purchase
        in [as_of, as_of + horizon_days).
    customers: when given, a SELECT of the customer_id to describe (every feature is the
        customer's own, so the rows of the others are left out before any join). -#}
with
{%- if customers is not none %}
sampled as (
    {{ customers }}
),
{%- endif %}
lines as (
    select * from {{ ref('int_purchase_lines') }}
    {%- if customers is not none %}
    where customer_id in (select customer_id from sampled)
    {%- endif %}
),

as_of as (
    {{ as_of_dates }}
),

orders as (
    select
        customer_id,
        order_id,
        min(order_date) as order_date,
        sum(revenue) as order_value,
        bool_or(promotion_id is not null)::int as used_promotion
    from lines
    group by all
),

rfm as (
    select
        a.as_of,
        o.customer_id,
        date_diff('day', max(o.order_date), a.as_of) as recency_days,
        date_diff('day', min(o.order_date), a.as_of) as first_order_days,
        count(*) filter (where o.order_date >= a.as_of - 30) as orders_30d,
        count(*) filter (where o.order_date >= a.as_of - 90) as orders_90d,
        count(*) filter (where o.order_date >= a.as_of - 180) as orders_180d,
        count(*) filter (where o.order_date >= a.as_of - 365) as orders_365d,
        count(*) as orders_total,
        coalesce(sum(o.order_value) filter (where o.order_date >= a.as_of - 365), 0)
            as revenue_365d,
        avg(o.order_value) as avg_order_value,
        avg(o.used_promotion) as promotion_order_share
    from orders as o
    inner join as_of as a on o.order_date < a.as_of
    group by a.as_of, o.customer_id
),

category_lines as (
    select a.as_of, l.customer_id, l.category, count(*) as n
    from lines as l
    inner join as_of as a on l.order_date < a.as_of
    group by all
),

concentration as (
    select
        as_of,
        customer_id,
        max(n) / sum(n) as top_category_share,
        count(*) as distinct_categories
    from category_lines
    group by all
),

browsing as (
    select
        a.as_of,
        i.customer_id,
        sum(i.views) as views_30d,
        sum(i.add_to_carts) as add_to_carts_30d
    from {{ ref('stg_web__product_interactions') }} as i
    inner join as_of as a on i.event_date >= a.as_of - 30 and i.event_date < a.as_of
    {%- if customers is not none %}
    where i.customer_id in (select customer_id from sampled)
    {%- endif %}
    group by all
)
{%- if horizon_days is not none %},

active as (
    select distinct a.as_of, o.customer_id
    from orders as o
    inner join as_of as a
        on o.order_date >= a.as_of and o.order_date < a.as_of + {{ horizon_days | int }}
)
{%- endif %}

select
    r.customer_id,
    r.as_of as as_of_date,
    r.recency_days,
    r.first_order_days,
    r.orders_30d,
    r.orders_90d,
    r.orders_180d,
    r.orders_365d,
    r.orders_total,
    cast(r.revenue_365d as double) as revenue_365d,
    cast(r.avg_order_value as double) as avg_order_value,
    cast(r.promotion_order_share as double) as promotion_order_share,
    k.top_category_share,
    k.distinct_categories,
    coalesce(b.views_30d, 0)::bigint as views_30d,
    coalesce(b.add_to_carts_30d, 0)::bigint as add_to_carts_30d,
    date_diff('day', c.signup_date, r.as_of) as tenure_days,
    year(r.as_of) - c.birth_year as age
    {%- if horizon_days is not none %},
    (v.customer_id is null)::int as churned
    {%- endif %}
from rfm as r
inner join {{ ref('stg_customers__customer_profiles') }} as c using (customer_id)
left join concentration as k using (as_of, customer_id)
left join browsing as b using (as_of, customer_id)
{%- if horizon_days is not none %}
left join active as v using (as_of, customer_id)
{%- endif %}
{%- endmacro %}
