-- Every training row's label window [as_of_date, as_of_date + horizon) ends by the data end:
-- no label is cut short by the end of the observed data.
select 'churn_training' as model, as_of_date
from {{ ref('churn_training') }}
where
    as_of_date + {{ var('mesh_models')['churn_model']['horizon_days'] | int }}
    > {{ ml_data_end() }}
union all
select 'recommender_training' as model, as_of_date
from {{ ref('recommender_training') }}
where
    as_of_date + {{ var('mesh_models')['recommender']['horizon_days'] | int }}
    > {{ ml_data_end() }}
