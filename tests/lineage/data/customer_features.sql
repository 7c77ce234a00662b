-- Features as of the last day with orders, so the same data always gives the same features.
with lines as (
    select l.*, p.category
    from "personalization"."main"."stg_sales__order_lines" as l
    left join "personalization"."main"."stg_catalog__products" as p using (product_id)
),

as_of as (
    select max(order_date) as as_of_date from lines
),

orders as (
    select
        customer_id,
        order_id,
        min(order_date) as order_date,
        sum(line_revenue) as order_value,
        max(promotion_id is not null)::int as used_promotion
    from lines
    group by all
),

rfm as (
    select
        o.customer_id,
        date_diff('day', max(o.order_date), a.as_of_date) as recency_days,
        count(*) filter (where o.order_date > a.as_of_date - 90) as orders_90d,
        count(*) filter (where o.order_date > a.as_of_date - 365) as orders_365d,
        count(*) as orders_total,
        coalesce(sum(o.order_value) filter (where o.order_date > a.as_of_date - 365), 0)
            as revenue_365d,
        avg(o.order_value) as avg_order_value,
        avg(o.used_promotion) as promotion_order_share
    from orders as o
    cross join as_of as a
    group by o.customer_id, a.as_of_date
),

category_counts as (
    select customer_id, category, count(*) as lines
    from lines
    group by all
),

top_category as (
    select
        customer_id,
        category as top_category,
        lines / sum(lines) over (partition by customer_id) as top_category_share,
        count(*) over (partition by customer_id) as distinct_categories,
        row_number() over (partition by customer_id order by lines desc, category) as rank
    from category_counts
    qualify rank = 1
),

browsing as (
    select
        i.customer_id,
        sum(i.views) as views_30d,
        sum(i.add_to_carts) as add_to_carts_30d
    from "personalization"."main"."stg_web__product_interactions" as i
    cross join as_of as a
    where i.event_date > a.as_of_date - 30
    group by all
)

select
    c.customer_id,
    a.as_of_date,
    date_diff('day', c.signup_date, a.as_of_date) as tenure_days,
    year(a.as_of_date) - c.birth_year as age,
    c.country,
    c.marketing_opt_in,
    r.recency_days,
    coalesce(r.orders_90d, 0) as orders_90d,
    coalesce(r.orders_365d, 0) as orders_365d,
    coalesce(r.orders_total, 0) as orders_total,
    cast(coalesce(r.revenue_365d, 0) as double) as revenue_365d,
    cast(r.avg_order_value as double) as avg_order_value,
    coalesce(r.promotion_order_share, 0) as promotion_order_share,
    t.top_category,
    t.top_category_share,
    coalesce(t.distinct_categories, 0) as distinct_categories,
    cast(coalesce(b.views_30d, 0) as bigint) as views_30d,
    cast(coalesce(b.add_to_carts_30d, 0) as bigint) as add_to_carts_30d
from "personalization"."main"."stg_customers__customer_profiles" as c
cross join as_of as a
left join rfm as r using (customer_id)
left join top_category as t using (customer_id)
left join browsing as b using (customer_id)
