"""Declared LightGBM models (classifier, regressor, ranker) trained on a domain's own dbt table."""
