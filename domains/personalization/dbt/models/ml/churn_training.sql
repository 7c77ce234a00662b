-- Labelled point-in-time churn features: var('churn_snapshots') as-of dates,
-- var('churn_spacing_days') apart, each with a full label window of the horizon_days declared
-- by churn_model.yaml (the platform passes it as var('mesh_models')). At most
-- var('churn_training_customers') customers (a fixed sample; 10 dates x 200,000 is the
-- platform's 2M max_training_rows), so the table stops growing with the customer base.
{%- set horizon_days = var('mesh_models')['churn_model']['horizon_days'] | int %}
select *
from (
    {{ churn_features(
        as_of_dates=ml_labelled_as_of_dates(
            var('churn_snapshots', 10), var('churn_spacing_days', 30), horizon_days
        ),
        horizon_days=horizon_days,
        customers=ml_training_customers(var('churn_training_customers', 200000)),
    ) }}
)
order by as_of_date, customer_id
