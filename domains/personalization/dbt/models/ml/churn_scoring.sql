-- Churn features as of the data end (the day after the last order date): what the model scores.
select *
from ({{ churn_features(as_of_dates=ml_scoring_as_of_date()) }})
order by customer_id
