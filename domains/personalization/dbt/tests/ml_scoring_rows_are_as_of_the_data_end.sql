-- The scoring tables describe the data end (the day after the last order date) and nothing else.
select 'churn_scoring' as model, as_of_date
from {{ ref('churn_scoring') }}
where as_of_date <> {{ ml_data_end() }}
union all
select 'recommender_candidates' as model, as_of_date
from {{ ref('recommender_candidates') }}
where as_of_date <> {{ ml_data_end() }}
