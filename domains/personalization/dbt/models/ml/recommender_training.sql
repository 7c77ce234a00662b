-- Labelled recommender candidates: var('recommender_snapshots') as-of dates,
-- var('recommender_spacing_days') apart, each with a full var('recommender_horizon_days') window.
{{ recommender_features(
    as_of_dates=ml_labelled_as_of_dates(
        var('recommender_snapshots', 4),
        var('recommender_spacing_days', 30),
        var('recommender_horizon_days', 30),
    ),
    horizon_days=var('recommender_horizon_days', 30),
) }}
