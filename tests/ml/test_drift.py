"""Drift check: shifted features are flagged by name, same-distribution samples are not."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mesh_platform.ml.drift import drift_report, psi, reference_profile

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
