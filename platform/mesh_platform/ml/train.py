"""Deterministic, single-threaded LightGBM fits of the three model kinds, and prediction."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from mesh_platform.ml.dataset import Rows

_COMMON: dict[str, Any] = {
    "learning_rate": 0.05,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
}
PARAMS: dict[str, dict[str, Any]] = {
    "classifier": {
        **_COMMON,
        "objective": "binary",
        "num_leaves": 15,
        "min_data_in_leaf": 40,
        "num_boost_round": 200,
    },
    "regressor": {
        **_COMMON,
        "objective": "regression",
        "num_leaves": 31,
        "min_data_in_leaf": 40,
        "num_boost_round": 200,
    },
    "ranker": {
        **_COMMON,
        "objective": "lambdarank",
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "num_boost_round": 150,
    },
}


def lgb_params(params: dict[str, Any], seed: int, num_threads: int) -> tuple[dict, int]:
    """Split off the round count and pin everything that makes a fit reproducible.

    ``num_threads`` is explicit because LightGBM otherwise takes every core, and two fits
    sharing a 2-core machine slowed one from 0.4 s to 54 s (see DESIGN.md).

    Args:
        params: LightGBM parameters, optionally with ``num_boost_round``.
        seed: Seed of all LightGBM randomness (bagging, feature sampling).
        num_threads: OpenMP threads of the fit.

    Returns:
        ``(params for lgb.train, number of boosting rounds)``.
    """
    merged = dict(params)
    rounds = int(merged.pop("num_boost_round", 100))
    merged.update(
        seed=seed, deterministic=True, force_row_wise=True, num_threads=num_threads, verbosity=-1
    )
    return merged, rounds


def query_sizes(query: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal, contiguous query ids (LightGBM's ``group``)."""
    starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    return np.diff(np.r_[starts, len(query)])


def fit(
    kind: str,
    rows: Rows,
    features: list[str],
    params: dict[str, Any] | None = None,
    seed: int = 0,
    num_threads: int = 1,
) -> lgb.Booster:
    """Fit one LightGBM model of a kind on rows (the matrix is handed over without a copy).

    Args:
        kind: ``classifier``, ``regressor`` or ``ranker``.
        rows: Training rows; a ranker's rows carry contiguous query ids.
        features: Feature names, in the matrix's column order.
        params: LightGBM parameters over the kind's defaults (``PARAMS``).
        seed: Seed; the same seed and data give the same model string.
        num_threads: OpenMP threads (1: fits must not compete for cores).

    Returns:
        The booster.
    """
    merged, rounds = lgb_params({**PARAMS[kind], **(params or {})}, seed, num_threads)
    group = query_sizes(rows.query) if kind == "ranker" and rows.query is not None else None
    data = lgb.Dataset(rows.x, rows.label, group=group, feature_name=features)
    return lgb.train(merged, data, num_boost_round=rounds)


def predict(booster: lgb.Booster, x: np.ndarray, num_threads: int = 1) -> np.ndarray:
    """Predictions of a booster for a feature matrix in its feature order."""
    return np.asarray(booster.predict(x, num_threads=num_threads), dtype=np.float64)
