-- Churn features as of the data end (the day after the last order date): what the model scores.
{{ churn_features(as_of_dates=ml_scoring_as_of_date()) }}
