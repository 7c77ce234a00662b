{#- As-of dates of the point-in-time feature tables. A feature at as-of date d uses only data
    strictly before d; a label uses [d, d + horizon). -#}

{% macro ml_data_end() -%}
    {#- The day after the last order date (any status): the exclusive end of the observed window,
        and the as-of date of the scoring tables. A scalar subquery. -#}
    (select max(order_date) + 1 from {{ ref('stg_sales__order_days') }})
{%- endmacro %}

{% macro ml_labelled_as_of_dates(snapshots, spacing_days, horizon_days) -%}
    {#- ``snapshots`` dates, ``spacing_days`` apart, the latest the last whose label window
        [d, d + horizon_days) closes by the data end. One column: as_of. -#}
    select
        cast({{ ml_data_end() }} - {{ horizon_days | int }}
            - cast(i * {{ spacing_days | int }} as integer) as date) as as_of
    from range({{ snapshots | int }}) as dates(i)
{%- endmacro %}

{% macro ml_labelled_as_of_date(i, spacing_days, horizon_days) -%}
    {#- The ``i``-th of those dates, counting back from the latest (i = 0). One column: as_of. -#}
    select
        cast({{ ml_data_end() }} - {{ horizon_days | int }}
            - {{ (i | int) * (spacing_days | int) }} as date) as as_of
{%- endmacro %}

{% macro ml_scoring_as_of_date() -%}
    {#- The one as-of date of the scoring tables: the data end. One column: as_of. -#}
    select cast({{ ml_data_end() }} as date) as as_of
{%- endmacro %}

{% macro ml_training_customers(max_customers) -%}
    {#- At most ``max_customers`` of the customers with a purchase: a fixed pseudo-random sample
        (by the hash of the key). A training table then grows with the sample, not with the
        customer base; at or below the cap every customer is kept. One column: customer_id. -#}
    select customer_id
    from (select distinct customer_id from {{ ref('int_purchase_lines') }})
    order by hash(customer_id), customer_id
    limit {{ max_customers | int }}
{%- endmacro %}
