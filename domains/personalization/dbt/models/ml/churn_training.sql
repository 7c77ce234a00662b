-- Labelled point-in-time churn features: var('churn_snapshots') as-of dates,
-- var('churn_spacing_days') apart, each with a full var('churn_horizon_days') label window.
select *
from (
    {{ churn_features(
        as_of_dates=ml_labelled_as_of_dates(
            var('churn_snapshots', 10), var('churn_spacing_days', 30), var('churn_horizon_days', 90)
        ),
        horizon_days=var('churn_horizon_days', 90),
    ) }}
)
order by as_of_date, customer_id
