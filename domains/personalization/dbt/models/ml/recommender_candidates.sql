-- Recommender candidates as of the data end (the day after the last order date): what the
-- model ranks. Built after the training candidates (depends_on), not beside them: each of the
-- two heaviest joins gets the warehouse's whole memory_limit.
-- depends_on: {{ ref('recommender_training') }}
select *
from ({{ recommender_features(as_of_dates=ml_scoring_as_of_date()) }})
