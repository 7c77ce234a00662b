"""Statistics behind the drift check: binning, PSI and the two-sample tests."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

EPSILON = 1e-4  # floor of a bin's share, so an empty bin does not make the PSI infinite

Drift = tuple[float, str, float, float]  # psi, test, statistic, p-value


def numeric(series: pd.Series) -> np.ndarray:
    """Values as floats; NaN for nulls and non-finite values (they count in the null bin)."""
    values = cast(pd.Series, pd.to_numeric(series, errors="coerce"))
    array = np.array(values.astype("float64"), dtype=float)  # nullable NA becomes NaN
    array[~np.isfinite(array)] = np.nan
    return array


def bin_counts(values: np.ndarray, edges: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts per quantile bin (values equal to an edge go up), plus a last bin for nulls."""
    finite = values[~np.isnan(values)]
    inner = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    return np.append(inner, values.size - finite.size)


def category_counts(series: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Counts of the reference categories, then all other values, then nulls."""
    values = series.dropna().astype(str)
    counts = values.value_counts()
    known = [int(counts.get(c) or 0) for c in categories]
    return np.array([*known, len(values) - sum(known), len(series) - len(values)])


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two count vectors over the same bins."""
    e, a = (np.maximum(c / max(c.sum(), 1), epsilon) for c in (expected, actual))
    e, a = e / e.sum(), a / a.sum()  # renormalise after flooring empty bins
    return float(np.sum((a - e) * np.log(a / e)))


def chi2(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of two count vectors: statistic and p-value."""
    table = np.vstack([expected, actual])
    table = table[:, table.sum(axis=0) > 0]  # a bucket empty on both sides carries no evidence
    if table.shape[1] < 2:
        return 0.0, 1.0
    result: Any = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def null_share(expected: np.ndarray, actual: np.ndarray) -> Drift:
    """PSI and chi-square test of the null share alone (the last bucket of both vectors)."""
    e, a = (np.array([c[:-1].sum(), c[-1]]) for c in (expected, actual))
    return psi(e, a), "chi2", *chi2(e, a)


def numeric_drift(ref: Mapping[str, Any], series: pd.Series) -> Drift:
    """PSI over the quantile bins; KS on the values, plus a null-share test when nulls occur."""
    values = numeric(series)
    expected, actual = np.asarray(ref["counts"]), bin_counts(values, ref["edges"])
    finite = values[~np.isnan(values)]
    statistic, p_values = math.nan, []
    if finite.size and ref["sample"]:
        result: Any = stats.ks_2samp(ref["sample"], finite, method="asymp")
        statistic, p_values = float(result.statistic), [float(result.pvalue)]
    if expected[-1] or actual[-1]:  # KS ignores nulls, yet a feature going null is drift
        p_values.append(null_share(expected, actual)[3])
    # Bonferroni: two tests at one level keep the false-alarm rate at most that level.
    p_value = min(1.0, len(p_values) * min(p_values)) if p_values else math.nan
    return psi(expected, actual), "ks", statistic, p_value


def categorical_drift(ref: Mapping[str, Any], series: pd.Series) -> Drift:
    """PSI and a chi-square test over the reference categories, `other` and nulls."""
    expected = np.asarray(ref["counts"])
    actual = category_counts(series, ref["categories"])
    return psi(expected, actual), "chi2", *chi2(expected, actual)


def null_drift(ref: Mapping[str, Any], series: pd.Series) -> Drift:
    """Drift of a feature's null share only (non-stationary features: values may move)."""
    if ref["kind"] == "numeric":
        actual = bin_counts(numeric(series), ref["edges"])
    else:
        actual = category_counts(series, ref["categories"])
    return null_share(np.asarray(ref["counts"]), actual)
