{% macro recommender_features(as_of_dates, horizon_days=none, per_category=30, global_top=10,
                              max_relevance=3, customers=none) -%}
{#- Candidate (customer, product) rows per as-of date with ranking features, using only data
    strictly before the as-of date. A query group is (customer_id, as_of_date). Unordered:
    the models sort.

    Candidates of a customer with a purchase before as-of: the ``per_category`` most popular
    products (purchase lines in the 90 days before as-of) of each of the customer's top-3
    categories, plus the ``global_top`` overall.

    as_of_dates: a SELECT with one DATE column ``as_of``.
    horizon_days: when given, adds the graded label ``relevance``: units of the product the
        customer buys in [as_of, as_of + horizon_days), capped at ``max_relevance``.
    customers: when given, a SELECT of the customer_id whose candidates to build. Product
        popularity still counts every customer's purchases. -#}
with lines as (
    select * from {{ ref('int_purchase_lines') }}
),

customer_lines as (
    select * from lines
    {%- if customers is not none %}
    where customer_id in ({{ customers }})
    {%- endif %}
),

as_of as (
    {{ as_of_dates }}
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

prices as (
    select
        a.as_of,
        p.product_id,
        cast(p.list_price as double) as list_price,
        cast(p.list_price as decimal(18, 2))
            / avg(cast(p.list_price as decimal(18, 2))) over (partition by a.as_of, p.category)
            as price_vs_category
    from products as p
    inner join as_of as a on p.launched_on < a.as_of
),

popular as (
    select a.as_of, l.product_id, any_value(l.category) as category, count(*) as n
    from lines as l
    inner join as_of as a on l.order_date >= a.as_of - 90 and l.order_date < a.as_of
    group by all
),

ranked as (
    select
        *,
        row_number() over (partition by as_of, category order by n desc, product_id)
            as category_rank,
        row_number() over (partition by as_of order by n desc, product_id) as global_rank
    from popular
),

history as (
    select a.as_of, l.*
    from customer_lines as l
    inner join as_of as a on l.order_date < a.as_of
),

customers as (
    select
        h.as_of,
        h.customer_id,
        count(*) as lines_total,
        avg(h.unit_price) as mean_price,
        avg(cast(p.price_vs_category as decimal(18, 6))) as customer_price_index
    from history as h
    inner join prices as p using (as_of, product_id)
    group by all
),

customer_categories as (
    select
        as_of,
        customer_id,
        category,
        count(*) as n,
        date_diff('day', max(order_date), as_of) as category_recency_days,
        row_number() over (
            partition by as_of, customer_id order by count(*) desc, category
        ) as k
    from history
    group by as_of, customer_id, category
),

candidates as (
    select c.as_of, c.customer_id, r.product_id
    from customer_categories as c
    inner join ranked as r on r.as_of = c.as_of and r.category = c.category
    where c.k <= 3 and r.category_rank <= {{ per_category | int }}
    union
    select c.as_of, c.customer_id, r.product_id
    from customers as c
    inner join ranked as r on r.as_of = c.as_of and r.global_rank <= {{ global_top | int }}
),

bought as (
    select as_of, customer_id, product_id, count(*) as product_bought_before
    from history
    group by all
),

web as (
    select
        a.as_of,
        i.customer_id,
        i.product_id,
        p.category,
        sum(i.views) as views,
        sum(i.add_to_carts) as carts
    from {{ ref('stg_web__product_interactions') }} as i
    inner join products as p using (product_id)
    inner join as_of as a on i.event_date >= a.as_of - 30 and i.event_date < a.as_of
    {%- if customers is not none %}
    where i.customer_id in ({{ customers }})
    {%- endif %}
    group by all
),

web_categories as (
    select as_of, customer_id, category, sum(views) as views, sum(carts) as carts
    from web
    group by all
),

promotions as (
    select a.as_of, p.category, max(p.discount_pct) as promo_discount
    from {{ ref('stg_catalog__promotions') }} as p
    inner join as_of as a on a.as_of between p.starts_on and p.ends_on
    group by all
)
{%- if horizon_days is not none %},

bought_in_horizon as (
    select a.as_of, l.customer_id, l.product_id, sum(l.quantity) as units
    from customer_lines as l
    inner join as_of as a
        on l.order_date >= a.as_of and l.order_date < a.as_of + {{ horizon_days | int }}
    group by all
)
{%- endif %}

select
    k.customer_id,
    k.as_of as as_of_date,
    k.product_id,
    coalesce(cc.n, 0) / u.lines_total as category_share,
    cc.category_recency_days,
    r.n as product_popularity_90d,
    r.category_rank,
    p.list_price / cast(u.mean_price as double) as price_vs_customer,
    p.price_vs_category,
    cast(u.customer_price_index as double) as customer_price_index,
    coalesce(pr.promo_discount, 0) as promo_discount,
    coalesce(w.views, 0)::bigint as product_views_30d,
    coalesce(w.carts, 0)::bigint as product_carts_30d,
    coalesce(wc.views, 0)::bigint as category_views_30d,
    coalesce(wc.carts, 0)::bigint as category_carts_30d,
    coalesce(b.product_bought_before, 0) as product_bought_before
    {%- if horizon_days is not none %},
    least(coalesce(y.units, 0), {{ max_relevance | int }})::int as relevance
    {%- endif %}
from candidates as k
inner join ranked as r using (as_of, product_id)
inner join prices as p using (as_of, product_id)
inner join customers as u using (as_of, customer_id)
left join customer_categories as cc
    on cc.as_of = k.as_of and cc.customer_id = k.customer_id and cc.category = r.category
left join promotions as pr on pr.as_of = k.as_of and pr.category = r.category
left join web as w
    on w.as_of = k.as_of and w.customer_id = k.customer_id and w.product_id = k.product_id
left join web_categories as wc
    on wc.as_of = k.as_of and wc.customer_id = k.customer_id and wc.category = r.category
left join bought as b
    on b.as_of = k.as_of and b.customer_id = k.customer_id and b.product_id = k.product_id
{%- if horizon_days is not none %}
left join bought_in_horizon as y
    on y.as_of = k.as_of and y.customer_id = k.customer_id and y.product_id = k.product_id
{%- endif %}
{%- endmacro %}
