"""Drift check: shifted features are flagged by name; same-distribution and time-driven ones not."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mesh_platform.descriptors.models import DriftThresholds
from mesh_platform.ml.drift import drift_report, psi, reference_profile
from pydantic import ValidationError

FEATURES = {"age": "float", "basket_value": "float", "visits_30d": "int", "channel": "categorical",
            "is_member": "bool"}  # fmt: skip


def _shop(rows: int, seed: int, age_shift: float = 0.0, web_share: float = 0.6) -> pd.DataFrame:
    """Customer features: normal, log-normal, count, categorical and boolean columns."""
    rng = np.random.default_rng(seed)
    rest = (1 - web_share) / 2
    return pd.DataFrame({
        "age": rng.normal(40 + age_shift, 12, rows),
        "basket_value": rng.lognormal(3.5, 0.8, rows),
        "visits_30d": rng.poisson(2.5, rows),
        "channel": rng.choice(["web", "app", "store"], rows, p=[web_share, rest, rest]),
        "is_member": rng.random(rows) < 0.3,
    })  # fmt: skip


@pytest.fixture(scope="module")
def profile() -> dict:
    return reference_profile(_shop(20_000, seed=1), FEATURES, seed=0)


def test_profile_is_json_and_bounded(profile):
    restored = json.loads(json.dumps(profile))
    assert restored == profile
    age = profile["features"]["age"]
    assert age["kind"] == "numeric" and len(age["sample"]) == 5000
    assert len(age["edges"]) == 9 and sum(age["counts"]) == 20_000
    assert profile["features"]["channel"]["categories"] == ["web", "app", "store"]
    assert profile["features"]["is_member"]["kind"] == "categorical"
    assert reference_profile(_shop(20_000, seed=1), FEATURES, seed=0) == profile  # seeded


@pytest.mark.parametrize("rows", [500, 5_000, 50_000])
def test_same_distribution_is_not_flagged(profile, rows):
    for seed in range(10, 15):
        report = drift_report(profile, _shop(rows, seed=seed))
        assert report.drifted_features == [], report.features


def test_mean_shift_is_flagged_with_the_feature_named(profile):
    report = drift_report(profile, _shop(5_000, seed=2, age_shift=9.0))  # 0.75 sd older
    assert report.drifted_features == ["age"]
    age = report.features["age"]
    assert age.psi >= 0.2 and age.test == "ks" and age.p_value < 0.01 and age.drifted


def test_category_share_change_is_flagged(profile):
    report = drift_report(profile, _shop(5_000, seed=3, web_share=0.3))  # web 60% -> 30%
    assert report.drifted_features == ["channel"]
    assert report.features["channel"].test == "chi2"


def test_new_category_counts_as_other(profile):
    current = _shop(5_000, seed=4)
    current.loc[: len(current) // 2, "channel"] = "marketplace"  # unseen in training
    assert drift_report(profile, current).drifted_features == ["channel"]


def test_feature_going_null_is_flagged(profile):
    current = _shop(5_000, seed=5)
    current["basket_value"] = current["basket_value"].mask(np.arange(len(current)) % 3 == 0)
    report = drift_report(profile, current)
    assert report.drifted_features == ["basket_value"]
    assert report.features["basket_value"].psi > 0.2


def test_small_shift_below_psi_threshold_is_not_flagged(profile):
    report = drift_report(profile, _shop(50_000, seed=6, age_shift=1.2))  # 0.1 sd
    age = report.features["age"]
    assert age.p_value < 0.01 and age.psi < 0.2  # significant, but too small to matter
    assert report.drifted_features == []


def test_report_is_strict_json_and_thresholds_apply(profile):
    current = _shop(2_000, seed=7, age_shift=9.0)
    current["age"] = np.nan  # nothing left for KS: its statistic is unknown
    report = drift_report(profile, current)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["features"]["age"]["statistic"] is None
    assert report.features["age"].drifted  # every value missing: the null bin shows it
    assert drift_report(profile, current, psi_threshold=100.0).drifted_features == []


def test_missing_column_or_empty_batch_is_an_error(profile):
    with pytest.raises(ValueError, match="channel"):
        drift_report(profile, _shop(100, seed=8).drop(columns="channel"))
    with pytest.raises(ValueError, match="no rows"):
        drift_report(profile, _shop(0, seed=8))


def test_psi_is_zero_for_identical_and_finite_with_empty_bins():
    counts = np.array([10, 20, 30, 0])
    assert psi(counts, counts) == pytest.approx(0.0)
    assert 0 < psi(counts, np.array([0, 20, 30, 10])) < float("inf")


# Like for like: the reference is the evaluation window (as-of day 640), serving is 90 days later.
REFERENCE_DAY, SERVING_DAY = 640, 730
TRENDING = ["first_order_days", "promo_discount"]
FEATURES_TRENDING = ["age", "basket_value", "visits_30d", "channel", *TRENDING]


def _window(rows: int, day: int, rng: np.random.Generator, age_shift_sd: float = 0.0,
            web_share: float = 0.6) -> pd.DataFrame:  # fmt: skip
    """Stationary features plus two that move with the as-of day (declared non-stationary)."""
    first = np.where(rng.random(rows) < 0.6, rng.uniform(0, 30, rows), rng.uniform(0, day, rows))
    calendar = np.random.default_rng(day)  # the promotions running on that day
    on_promo, discount = calendar.uniform(0.05, 0.4), calendar.choice([0.1, 0.2, 0.3])
    rest = (1 - web_share) / 2
    return pd.DataFrame({
        "age": rng.normal(40 + 12 * age_shift_sd, 12, rows),
        "basket_value": rng.lognormal(3.5, 0.8, rows),
        "visits_30d": rng.poisson(2.5, rows),
        "channel": rng.choice(["web", "app", "store"], rows, p=[web_share, rest, rest]),
        "first_order_days": np.floor(day - first),
        "promo_discount": np.where(rng.random(rows) < on_promo, discount, 0.0),
    })  # fmt: skip


def _check(seed: int, rows: int, **shift) -> tuple:
    rng = np.random.default_rng(seed)
    profile = reference_profile(_window(rows, REFERENCE_DAY, rng), FEATURES_TRENDING)
    current = _window(rows, SERVING_DAY, rng, **shift)
    return profile, current


def test_trending_features_declared_non_stationary_raise_no_false_alarm():
    seeds, alarms = 40, 0
    for seed in range(seeds):
        profile, current = _check(seed, 2_000)
        undeclared = drift_report(profile, current)
        assert "first_order_days" in undeclared.drifted_features  # why the declaration exists
        report = drift_report(profile, current, non_stationary=TRENDING)
        alarms += report.drifted
        assert report.non_stationary == TRENDING
        assert report.features["first_order_days"].psi > 1  # still reported, not alarming
    assert alarms / seeds <= 0.05


@pytest.mark.parametrize("shift, feature", [({"age_shift_sd": 0.5}, "age"),
                                            ({"web_share": 0.35}, "channel")])  # fmt: skip
def test_medium_shift_is_caught_beside_non_stationary_features(shift, feature):
    caught = 0
    for seed in range(10):
        report = drift_report(*_check(seed, 5_000, **shift), non_stationary=TRENDING)
        caught += report.drifted_features == [feature]
    assert caught >= 9


def test_large_batch_negligible_difference_is_not_flagged():
    rng = np.random.default_rng(11)
    profile = reference_profile(_window(50_000, REFERENCE_DAY, rng), FEATURES_TRENDING)
    current = _window(50_000, REFERENCE_DAY, rng, age_shift_sd=0.08, web_share=0.57)
    report = drift_report(profile, current)
    assert report.features["age"].p_value < 0.01  # "significant" at this n ...
    assert report.features["channel"].p_value < 0.01
    assert report.drifted_features == []  # ... yet far below the PSI that matters


def test_non_stationary_feature_going_null_still_alarms():
    profile, current = _check(3, 5_000)
    current["first_order_days"] = current["first_order_days"].mask(np.arange(5_000) % 3 == 0)
    report = drift_report(profile, current, non_stationary=TRENDING)
    assert report.drifted_features == ["first_order_days"]
    assert report.features["first_order_days"].non_stationary
    assert drift_report(profile, current, non_stationary=["unknown"]).non_stationary == []
    one = drift_report(profile, current, non_stationary="promo_discount")  # a name, not letters
    assert one.non_stationary == ["promo_discount"]


def test_thresholds_declare_non_stationary_features():
    spec = DriftThresholds.model_validate({"psi": 0.25, "non_stationary": ["tenure_days"]})
    assert spec.non_stationary == ["tenure_days"] and spec.ks_pvalue == 0.01
    with pytest.raises(ValidationError, match="listed twice"):
        DriftThresholds(non_stationary=["a", "a"])
