"""Feature drift: serving-time distributions against the champion's reference profile.

The reference is profiled from the evaluation window (the latest labelled as-of date: the rows
nearest to serving in time), so a check compares like with like. A feature drifts when its PSI
reaches the threshold (the shift is large enough to matter, however many rows there are) and its
two-sample test rejects at `ks_pvalue` split over the features checked (Bonferroni: the whole
report raises a false alarm with probability at most `ks_pvalue`, however small the batch).
Features declared non-stationary (values that move with time by construction: days since an
event, calendar effects) are reported but alarm only when their null share drifts.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mesh_platform.ml import drift_stats as S
from mesh_platform.ml.drift_stats import psi

__all__ = ["DriftReport", "FeatureDrift", "drift_report", "psi", "reference_profile"]

PROFILE_VERSION = 1
_CATEGORICAL_TYPES = {"categorical", "category", "string", "str", "bool", "boolean", "object"}


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature: PSI on the reference bins and a two-sample test."""

    feature: str
    kind: str  # numeric or categorical
    psi: float
    test: str  # ks (numeric) or chi2 (categorical)
    statistic: float
    p_value: float
    drifted: bool  # alarms: for a non-stationary feature, only its null share can
    non_stationary: bool = False


@dataclass
class DriftReport:
    """Per-feature drift and the features flagged."""

    features: dict[str, FeatureDrift]
    drifted_features: list[str]
    rows: int
    psi_threshold: float
    ks_pvalue: float  # level of the whole report; each feature is tested at ks_pvalue / tests
    non_stationary: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """Whether any feature drifted."""
        return bool(self.drifted_features)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON form: None where a test could not run (NaN is not JSON)."""
        data = asdict(self)
        for feature in data["features"].values():
            feature.update({k: None for k, v in feature.items() if v != v})  # v != v: NaN
        return data


def _is_categorical(series: pd.Series, declared: str | None) -> bool:
    if declared is not None:
        return declared.lower() in _CATEGORICAL_TYPES
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    column = df[name]
    if not isinstance(column, pd.Series):  # duplicated column names select a frame
        raise ValueError(f"feature column '{name}' appears more than once")
    return column


def _profile_numeric(series: pd.Series, bins: int, sample_size: int, seed: int) -> dict[str, Any]:
    values = S.numeric(series)
    finite = values[~np.isnan(values)]
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(finite, quantiles)) if finite.size else np.array([])
    sample = np.random.default_rng(seed).choice(finite, min(sample_size, finite.size), False)
    counts = S.bin_counts(values, edges)
    return {"kind": "numeric", "edges": edges.tolist(), "counts": counts.tolist(),
            "sample": np.sort(sample).tolist()}  # fmt: skip


def _profile_categorical(series: pd.Series, max_categories: int) -> dict[str, Any]:
    top = [str(c) for c in series.dropna().astype(str).value_counts().index[:max_categories]]
    counts = S.category_counts(series, top)
    return {"kind": "categorical", "categories": top, "counts": counts.tolist()}


def reference_profile(
    df: pd.DataFrame,
    features: Sequence[str] | Mapping[str, str],
    *,
    bins: int = 10,
    sample_size: int = 5000,
    max_categories: int = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile reference features for later drift checks.

    Args:
        df: Reference rows: the evaluation window (the latest labelled as-of date), so that a
            later check compares serving rows with rows from the nearest point in the data.
        features: Feature names, or name -> type (categorical types: categorical, category,
            string, bool, object; anything else is numeric). Names alone infer from dtypes.
        bins: Quantile bins per numeric feature (fewer when values repeat).
        sample_size: Bounded, seeded sample of each numeric feature, kept for the KS test.
        max_categories: Most frequent categories kept; the rest count as one `other` bucket.
        seed: Seed of the samples.

    Returns:
        A JSON-serialisable profile.
    """
    declared = features if isinstance(features, Mapping) else dict.fromkeys(features)
    missing = [f for f in declared if f not in df.columns]
    if missing:
        raise ValueError(f"reference data lacks feature column(s): {', '.join(missing)}")
    profiles = {}
    for name, kind in declared.items():
        series = _column(df, name)
        profiles[name] = (
            _profile_categorical(series, max_categories)
            if _is_categorical(series, kind)
            else _profile_numeric(series, bins, sample_size, seed)
        )
    return {"version": PROFILE_VERSION, "rows": len(df), "seed": seed, "features": profiles}


def drift_report(
    profile: Mapping[str, Any],
    current_df: pd.DataFrame,
    psi_threshold: float = 0.2,
    ks_pvalue: float = 0.01,
    *,
    non_stationary: Collection[str] = (),
) -> DriftReport:
    """Compare serving-time features with a reference profile.

    A feature drifts when its PSI reaches `psi_threshold` (the effect-size gate: the shift
    matters, so large batches do not flag negligible differences) and its two-sample test rejects
    at `ks_pvalue / features` (the shift is not sampling noise, so small batches, whose PSI is
    noisy, do not raise false alarms). The test is KS on a numeric feature's values
    (Bonferroni-combined with a chi-square test of its null share when nulls occur) and
    chi-square over a categorical feature's categories. A non-stationary feature is compared
    the same way for the report, but only a drift of its null share (the same two conditions on
    the null/non-null split) flags it.

    Args:
        profile: Output of `reference_profile`.
        current_df: Serving-time features.
        psi_threshold: PSI at or above which a shift counts (0.2 is the usual "major shift").
        ks_pvalue: False-alarm level of the whole report, split evenly over its features.
        non_stationary: Features whose values move with time by design; names the profile
            does not hold are ignored (a champion profiled before the feature existed).

    Returns:
        The report; `drifted_features` names the features flagged.

    Raises:
        ValueError: `current_df` is empty or lacks a profiled feature.
    """
    features = profile["features"]
    missing = [f for f in features if f not in current_df.columns]
    if missing:
        raise ValueError(f"current data lacks feature column(s): {', '.join(missing)}")
    if current_df.empty:
        raise ValueError("current data has no rows to compare")
    level = ks_pvalue / max(len(features), 1)
    declared = {non_stationary} if isinstance(non_stationary, str) else set(non_stationary)
    moving = [name for name in features if name in declared]
    results = {}
    for name, ref in features.items():
        series = _column(current_df, name)
        check = S.numeric_drift if ref["kind"] == "numeric" else S.categorical_drift
        index, test, statistic, p_value = check(ref, series)
        # A non-stationary feature is gated on its null share alone: its values may move.
        gate = S.null_drift(ref, series) if name in moving else (index, test, statistic, p_value)
        gate_psi, gate_p = gate[0], gate[3]
        drifted = gate_psi >= psi_threshold and (math.isnan(gate_p) or gate_p < level)
        results[name] = FeatureDrift(name, ref["kind"], index, test, statistic, p_value, drifted,
                                     name in moving)  # fmt: skip
    flagged = [name for name, r in results.items() if r.drifted]
    return DriftReport(results, flagged, len(current_df), psi_threshold, ks_pvalue, moving)
