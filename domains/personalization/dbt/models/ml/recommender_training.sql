-- Labelled recommender candidates: var('recommender_snapshots') as-of dates,
-- var('recommender_spacing_days') apart, each with a full label window of the horizon_days
-- declared by recommender.yaml (the platform passes it as var('mesh_models')).
-- One query per as-of date, glued by union all, so DuckDB builds one date's joins at a time
-- (scale 10, 11.8M rows: fits in a 3 GB memory_limit; one query over all dates needed over 6 GB).
{%- set snapshots = var('recommender_snapshots', 4) | int %}
{%- set spacing_days = var('recommender_spacing_days', 30) | int %}
{%- set horizon_days = var('mesh_models')['recommender']['horizon_days'] | int %}
{#- The training rows of at most this many customers (every one up to scale 10's 50,000): about
    4 x 60 candidates each, so the table stays near 12M rows however large the customer base,
    and the platform samples its max_training_rows (2M) from it. -#}
{%- set max_customers = var('recommender_training_customers', 50000) | int %}
select *
from (
    {%- for i in range(snapshots - 1, -1, -1) %}
    (
        {{ recommender_features(
            as_of_dates=ml_labelled_as_of_date(i, spacing_days, horizon_days),
            horizon_days=horizon_days,
            customers=ml_training_customers(max_customers),
        ) }}
    )
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)
