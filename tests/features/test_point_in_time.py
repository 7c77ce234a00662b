"""The personalization feature models are point in time: later data changes no feature.

Each test builds the dbt models again on the same ports changed from a cut date on, and compares
the rows at as-of dates up to the cut with those of the build on the unchanged ports.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from tests.features.conftest import Built, build_changed, data_end
from tests.support import port_files

pytestmark = pytest.mark.slow

CHURN_KEYS = ["as_of_date", "customer_id"]
RANKER_KEYS = ["as_of_date", "customer_id", "product_id"]
SPACING = 30  # the as-of dates' spacing of both models (dbt vars *_spacing_days)


def _cut(built: Built) -> date:
    """An as-of date of both training tables, with label windows after it."""
    return data_end(built) - timedelta(days=90)


@pytest.fixture(scope="module")
def shifted(upstream, built, tmp_path_factory) -> Built:
    """Orders and interactions from the cut on moved one spacing later, quantities doubled and
    views tripled: the as-of dates move by one spacing, so all but one are shared."""
    dest = tmp_path_factory.mktemp("shifted")
    return build_changed(upstream, dest, _cut(built), shift_days=SPACING)


@pytest.fixture(scope="module")
def truncated(upstream, built, tmp_path_factory) -> Built:
    """Orders and interactions from the cut on dropped: the data ends at the cut."""
    return build_changed(upstream, tmp_path_factory.mktemp("truncated"), _cut(built), None)


def _features(df: pd.DataFrame, label: str) -> pd.DataFrame:
    return df.drop(columns=[label])


@pytest.mark.parametrize(
    ("training", "label"), [("churn_training", "churned"), ("recommender_training", "relevance")]
)
def test_later_data_changes_no_feature(built, shifted, training, label):
    cut = _cut(built)
    assert data_end(shifted) == data_end(built) + timedelta(days=SPACING)
    shared = sorted(set(built.as_of_dates(training)) & set(shifted.as_of_dates(training)))
    assert cut in shared and len(shared) >= 3
    for as_of in (d for d in shared if d <= cut):
        before, after = built.table(training, as_of), shifted.table(training, as_of)
        assert len(before) > 100
        pd.testing.assert_frame_equal(
            _features(before, label), _features(after, label), check_exact=True
        )
    # The future did change: the labels at the cut see it.
    before, after = built.table(training, cut), shifted.table(training, cut)
    assert not before[label].equals(after[label])


@pytest.mark.parametrize(
    ("scoring", "training", "label"),
    [("churn_scoring", "churn_training", "churned"),
     ("recommender_candidates", "recommender_training", "relevance")],
)  # fmt: skip
def test_scoring_rows_are_the_training_rows_of_their_as_of_date(
    built, truncated, scoring, training, label
):
    """Data that ends at the cut is scored as of the cut, with the features the full data gives
    that date in training: scoring and training describe a date alike, and nothing after it."""
    cut = _cut(built)
    assert truncated.as_of_dates(scoring) == [cut]
    pd.testing.assert_frame_equal(
        truncated.table(scoring), _features(built.table(training, cut), label), check_exact=True
    )


def test_churned_is_no_purchase_in_the_horizon(upstream, built):
    cut = _cut(built)
    lines = port_files(upstream.home, "sales/order_lines")
    with duckdb.connect() as con:
        bought = con.execute(
            f"SELECT DISTINCT customer_id FROM read_parquet({lines!r}) WHERE status <> "
            "'cancelled' AND order_date >= ? AND order_date < ?",
            [cut, cut + timedelta(days=90)],
        ).fetchall()
    rows = built.table("churn_training", cut)
    expected = (~rows["customer_id"].isin({c for (c,) in bought})).astype("int32")
    assert 0 < rows["churned"].sum() < len(rows)
    assert rows["churned"].equals(expected)


def test_relevance_is_units_bought_in_the_horizon_capped(upstream, built):
    as_of = max(built.as_of_dates("recommender_training"))
    lines = port_files(upstream.home, "sales/order_lines")
    with duckdb.connect() as con:
        units = con.execute(
            f"SELECT customer_id, product_id, sum(quantity) AS units FROM read_parquet({lines!r})"
            " WHERE status <> 'cancelled' AND order_date >= ? AND order_date < ? GROUP BY ALL",
            [as_of, as_of + timedelta(days=30)],
        ).df()
    rows = built.table("recommender_training", as_of).merge(
        units, on=["customer_id", "product_id"], how="left"
    )
    expected = rows["units"].fillna(0).clip(upper=3).astype("int32")
    assert rows["relevance"].gt(0).any()
    assert rows["relevance"].equals(expected.rename("relevance"))
