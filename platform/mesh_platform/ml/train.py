"""Deterministic LightGBM training of the churn classifier and product ranker, and scoring."""

from __future__ import annotations

from typing import Any, NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd

CLASSIFIER_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_boost_round": 200,
}
RANKER_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_boost_round": 150,
}


def feature_matrix(df: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Return the feature columns as a float matrix in model order, NULL as NaN.

    A plain float matrix is what LightGBM consumes natively; handing it pandas nullable
    integer columns costs a slow per-column conversion on every fit and prediction.
    """
    return df.loc[:, features].to_numpy(dtype=np.float64, na_value=np.nan)


class TrainedModel(NamedTuple):
    """A fitted booster and the feature columns it expects, in order."""

    booster: lgb.Booster
    features: list[str]


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
        seed=seed,
        deterministic=True,
        force_row_wise=True,
        num_threads=num_threads,
        verbosity=-1,
    )
    return merged, rounds


def train_classifier(
    train_df: pd.DataFrame,
    features: list[str],
    params: dict[str, Any] | None = None,
    seed: int = 0,
    num_threads: int = 1,
    label: str = "churned",
) -> TrainedModel:
    """Fit a binary LightGBM classifier.

    Args:
        train_df: Training rows with the feature columns and the label.
        features: Feature columns, in model order.
        params: LightGBM parameters; defaults to ``CLASSIFIER_PARAMS``.
        seed: Seed; the same seed and data give the same model string.
        num_threads: OpenMP threads (1 by default: fits must not compete for cores).
        label: Binary label column.

    Returns:
        The booster and its feature list.

    """
    merged, rounds = lgb_params({**CLASSIFIER_PARAMS, **(params or {})}, seed, num_threads)
    data = lgb.Dataset(
        feature_matrix(train_df, features), train_df[label].to_numpy(), feature_name=features
    )
    return TrainedModel(lgb.train(merged, data, num_boost_round=rounds), list(features))


def positive_groups(
    df: pd.DataFrame, group: str = "group_id", label: str = "relevance"
) -> pd.DataFrame:
    """Keep only groups with a relevant item, sorted by group (order within kept stable).

    Groups without a relevant item give lambdarank no pairs to learn from and no defined
    NDCG, so dropping them only saves time.
    """
    keep = df.groupby(group, sort=False)[label].transform("max").to_numpy() > 0
    return df.loc[keep].sort_values(by=group, kind="stable")


def train_ranker(
    train_df: pd.DataFrame,
    features: list[str],
    params: dict[str, Any] | None = None,
    seed: int = 0,
    num_threads: int = 1,
    label: str = "relevance",
    group: str = "group_id",
) -> TrainedModel:
    """Fit a LightGBM lambdarank model, one query group per (customer, as-of date).

    Args:
        train_df: Candidate rows with features, graded label and group id.
        features: Feature columns, in model order.
        params: LightGBM parameters; defaults to ``RANKER_PARAMS``.
        seed: Seed; the same seed and data give the same model string.
        num_threads: OpenMP threads (1 by default: fits must not compete for cores).
        label: Graded relevance column (small non-negative integers).
        group: Query group column.

    Returns:
        The booster and its feature list.

    """
    df = positive_groups(train_df, group, label)
    sizes = df.groupby(group, sort=False).size().to_numpy()
    merged, rounds = lgb_params({**RANKER_PARAMS, **(params or {})}, seed, num_threads)
    data = lgb.Dataset(
        feature_matrix(df, features), df[label].to_numpy(), group=sizes, feature_name=features
    )
    return TrainedModel(lgb.train(merged, data, num_boost_round=rounds), list(features))


def score_churn(booster: lgb.Booster, df: pd.DataFrame, num_threads: int = 1) -> np.ndarray:
    """Return churn probabilities for the rows of ``df`` (feature columns by booster name)."""
    return np.asarray(
        booster.predict(feature_matrix(df, booster.feature_name()), num_threads=num_threads)
    )


def top_k(
    booster: lgb.Booster,
    candidates_df: pd.DataFrame,
    k: int = 10,
    num_threads: int = 1,
) -> pd.DataFrame:
    """Score candidates and keep the best ``k`` products per (customer, as-of date).

    Args:
        booster: A ranker from ``train_ranker``.
        candidates_df: Rows of ``ranker_dataset`` (the label may be absent).
        k: Recommendations per customer.
        num_threads: OpenMP threads used for prediction.

    Returns:
        ``customer_id, as_of_date, product_id, score, rank`` (rank 1 is best); ties broken
        by product id so the output is deterministic.

    """
    scores = booster.predict(
        feature_matrix(candidates_df, booster.feature_name()), num_threads=num_threads
    )
    out = candidates_df[["customer_id", "as_of_date", "product_id"]].assign(
        score=np.asarray(scores)
    )
    out = out.sort_values(
        ["as_of_date", "customer_id", "score", "product_id"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    out["rank"] = out.groupby(["as_of_date", "customer_id"], sort=False).cumcount() + 1
    return out.loc[out["rank"].to_numpy() <= k].reset_index(drop=True)
