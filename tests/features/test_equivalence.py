"""The personalization feature models equal the platform's former Python builders, row for row.

This proves the move of the churn and recommender SQL from ``mesh_platform.ml`` into the
domain's dbt project; it goes once ``ml.features`` is gone.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.ml.features import churn_dataset, data_end, ranker_dataset
from mesh_platform.ml.sources import pinned_sources
from mesh_platform.ml.training import as_of_dates

pytestmark = pytest.mark.slow

# model product -> (Python builder, label, training table, scoring table, keys)
TASKS = {
    "churn_model": (churn_dataset, "churned", "churn_training", "churn_scoring",
                    ["as_of_date", "customer_id"]),
    "recommender": (ranker_dataset, "relevance", "recommender_training",
                    "recommender_candidates", ["as_of_date", "customer_id", "product_id"]),
}  # fmt: skip


def _old(builder, con, sources, dates, horizon: int, keys: list[str]) -> pd.DataFrame:
    df = builder(con, sources, dates, horizon).drop(columns=["group_id"], errors="ignore")
    return df.sort_values(keys, ignore_index=True)


@pytest.mark.parametrize("product", TASKS)
def test_feature_models_equal_the_python_builders(upstream, built, product):
    builder, label, training, scoring, keys = TASKS[product]
    spec = load_domain(upstream.paths.domains / "personalization").products[product].model
    assert spec is not None
    sources, _ = pinned_sources(upstream.paths)  # the same port snapshots dbt read
    with duckdb.connect() as con:
        end = data_end(con, sources)
        dates = as_of_dates(end, spec)  # the descriptor's snapshots, spacing and horizon
        old_training = _old(builder, con, sources, dates, spec.horizon_days, keys)
        old_scoring = _old(builder, con, sources, [end], spec.horizon_days, keys)
    new_training = built.table(training)
    new_scoring = built.table(scoring)

    assert built.as_of_dates(training) == dates
    assert built.as_of_dates(scoring) == [end]
    assert len(new_training) > 1000
    # Same columns in the same order, same rows, same values to the last bit.
    pd.testing.assert_frame_equal(new_training, old_training, check_exact=True)
    pd.testing.assert_frame_equal(new_scoring, old_scoring.drop(columns=[label]), check_exact=True)
