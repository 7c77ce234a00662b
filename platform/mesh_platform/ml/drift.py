"""Feature drift: serving-time distributions against the champion's training reference."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

PROFILE_VERSION = 1
EPSILON = 1e-4  # floor of a bin's share, so an empty bin does not make the PSI infinite
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
    drifted: bool


@dataclass
class DriftReport:
    """Per-feature drift and the features flagged."""

    features: dict[str, FeatureDrift]
    drifted_features: list[str]
    rows: int
    psi_threshold: float
    ks_pvalue: float

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


def _numeric(series: pd.Series) -> np.ndarray:
    """Values as floats; NaN for nulls and non-finite values (they count in the null bin)."""
    numeric = cast(pd.Series, pd.to_numeric(series, errors="coerce"))
    values = np.array(numeric.astype("float64"), dtype=float)  # nullable NA becomes NaN
    values[~np.isfinite(values)] = np.nan
    return values


def _bin_counts(values: np.ndarray, edges: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts per quantile bin (values equal to an edge go up), plus a last bin for nulls."""
    finite = values[~np.isnan(values)]
    inner = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    return np.append(inner, values.size - finite.size)


def _category_counts(series: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Counts of the reference categories, then all other values, then nulls."""
    values = series.dropna().astype(str)
    counts = values.value_counts()
    known = [int(counts.get(c) or 0) for c in categories]
    return np.array([*known, len(values) - sum(known), len(series) - len(values)])


def _profile_numeric(series: pd.Series, bins: int, sample_size: int, seed: int) -> dict[str, Any]:
    values = _numeric(series)
    finite = values[~np.isnan(values)]
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(finite, quantiles)) if finite.size else np.array([])
    sample = np.random.default_rng(seed).choice(finite, min(sample_size, finite.size), False)
    counts = _bin_counts(values, edges)
    return {"kind": "numeric", "edges": edges.tolist(), "counts": counts.tolist(),
            "sample": np.sort(sample).tolist()}  # fmt: skip


def _profile_categorical(series: pd.Series, max_categories: int) -> dict[str, Any]:
    top = [str(c) for c in series.dropna().astype(str).value_counts().index[:max_categories]]
    counts = _category_counts(series, top)
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
    """Profile training features as the reference for later drift checks.

    Args:
        df: Training (reference) data.
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


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two count vectors over the same bins."""
    e, a = (np.maximum(c / max(c.sum(), 1), epsilon) for c in (expected, actual))
    e, a = e / e.sum(), a / a.sum()  # renormalise after flooring empty bins
    return float(np.sum((a - e) * np.log(a / e)))


Drift = tuple[float, str, float, float]  # psi, test, statistic, p-value


def _chi2(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of two count vectors: statistic and p-value."""
    table = np.vstack([expected, actual])
    table = table[:, table.sum(axis=0) > 0]  # a bucket empty on both sides carries no evidence
    if table.shape[1] < 2:
        return 0.0, 1.0
    result: Any = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def _numeric_drift(ref: Mapping[str, Any], series: pd.Series) -> Drift:
    """PSI over the quantile bins; KS on the values, plus a null-share test when nulls occur."""
    values = _numeric(series)
    expected, actual = np.asarray(ref["counts"]), _bin_counts(values, ref["edges"])
    finite = values[~np.isnan(values)]
    statistic, p_values = math.nan, []
    if finite.size and ref["sample"]:
        result: Any = stats.ks_2samp(ref["sample"], finite, method="asymp")
        statistic, p_values = float(result.statistic), [float(result.pvalue)]
    if expected[-1] or actual[-1]:  # KS ignores nulls, yet a feature going null is drift
        nulls = np.array([[c[:-1].sum(), c[-1]] for c in (expected, actual)])
        p_values.append(_chi2(nulls[0], nulls[1])[1])
    # Bonferroni: two tests at one level keep the false-alarm rate at most `ks_pvalue`.
    p_value = min(1.0, len(p_values) * min(p_values)) if p_values else math.nan
    return psi(expected, actual), "ks", statistic, p_value


def _categorical_drift(ref: Mapping[str, Any], series: pd.Series) -> Drift:
    """PSI and a chi-square test over the reference categories, `other` and nulls."""
    expected = np.asarray(ref["counts"])
    actual = _category_counts(series, ref["categories"])
    return psi(expected, actual), "chi2", *_chi2(expected, actual)


def drift_report(
    profile: Mapping[str, Any],
    current_df: pd.DataFrame,
    psi_threshold: float = 0.2,
    ks_pvalue: float = 0.01,
) -> DriftReport:
    """Compare serving-time features with a reference profile.

    A feature drifts when its PSI reaches `psi_threshold` (the shift matters) and the two-sample
    test rejects at `ks_pvalue` (it is not sampling noise). Requiring both keeps small batches from
    tripping PSI by chance and large batches from tripping the test on shifts too small to matter.
    The test is KS on a numeric feature's values (Bonferroni-combined with a chi-square test of its
    null share when nulls occur) and chi-square over a categorical feature's categories.

    Args:
        profile: Output of `reference_profile`.
        current_df: Serving-time features.
        psi_threshold: PSI at or above which a shift counts (0.2 is the usual "major shift").
        ks_pvalue: Significance level of the two-sample test.

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
    results = {}
    for name, ref in features.items():
        check = _numeric_drift if ref["kind"] == "numeric" else _categorical_drift
        index, test, statistic, p_value = check(ref, _column(current_df, name))
        significant = math.isnan(p_value) or p_value < ks_pvalue
        drifted = index >= psi_threshold and significant
        results[name] = FeatureDrift(name, ref["kind"], index, test, statistic, p_value, drifted)
    flagged = [name for name, r in results.items() if r.drifted]
    return DriftReport(results, flagged, len(current_df), psi_threshold, ks_pvalue)
