"""Evaluation of the churn classifier and the ranker beside naive baselines on the same window."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn import metrics

from mesh_platform.ml.train import feature_matrix, score_churn


def classifier_metrics(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, precision, recall, F1, ROC AUC and log loss of probabilities.

    Args:
        y: Binary labels.
        proba: Predicted probability of the positive class.
        threshold: Probability at which a row is predicted positive.

    Returns:
        Metric name -> value (plus ``rows`` and ``positive_rate``).

    """
    y = np.asarray(y).astype(int)
    proba = np.clip(np.asarray(proba, dtype=float), 1e-15, 1 - 1e-15)
    pred = (proba >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    # Precision, recall and F1 are 0 when undefined (e.g. a baseline that never predicts 1).
    precision = tp / pred.sum() if pred.sum() else 0.0
    recall = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc = metrics.roc_auc_score(y, proba) if len(np.unique(y)) == 2 else float("nan")
    return {
        "accuracy": float((pred == y).mean()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(auc),
        "log_loss": float(metrics.log_loss(y, proba, labels=[0, 1])),
        "rows": len(y),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
    }


def evaluate_classifier(
    booster: lgb.Booster,
    eval_df: pd.DataFrame,
    label: str = "churned",
    prior: float | None = None,
) -> dict[str, dict]:
    """Compare the model with a majority-class baseline on the same evaluation rows.

    Args:
        booster: A classifier from ``train_classifier``.
        eval_df: Evaluation rows (a later window than training).
        label: Binary label column.
        prior: Positive rate the baseline predicts, e.g. the training rate; by default the
            evaluation window's own rate (the best any constant can do there).

    Returns:
        ``{"model": {...}, "baseline": {...}}``.

    """
    y = eval_df[label].to_numpy()
    rate = float(y.mean()) if prior is None else prior
    # Hard predictions are the majority class; the log loss uses the constant rate itself.
    baseline = classifier_metrics(y, np.full(len(y), float(rate >= 0.5)))
    baseline["log_loss"] = classifier_metrics(y, np.full(len(y), rate))["log_loss"]
    baseline["roc_auc"] = 0.5
    return {"model": classifier_metrics(y, score_churn(booster, eval_df)), "baseline": baseline}


def ranking_metrics(
    df: pd.DataFrame,
    scores: np.ndarray,
    k: int = 10,
    label: str = "relevance",
    group: str = "group_id",
) -> dict:
    """Mean NDCG@k, precision@k and recall@k over groups with at least one relevant item.

    Recall is relative to the relevant items among the candidates, since every ranker here
    orders the same candidate set. Ties are broken by product id (deterministic).

    Args:
        df: Candidate rows with label, group and ``product_id``.
        scores: Higher is better, aligned with ``df``.
        k: Cut-off.
        label: Graded relevance column.
        group: Query group column.

    Returns:
        Metric name -> value, plus ``groups`` evaluated.

    """
    _, gi = np.unique(df[group].to_numpy(), return_inverse=True)
    y = df[label].to_numpy().astype(float)
    product = df["product_id"].to_numpy()
    pos = _positions(gi, np.asarray(scores, dtype=float), product)
    ideal_pos = _positions(gi, y, product)
    n = int(gi.max()) + 1 if len(gi) else 0
    dcg = np.bincount(gi, weights=np.where(pos < k, (2**y - 1) / np.log2(pos + 2), 0), minlength=n)
    ideal = np.bincount(
        gi, weights=np.where(ideal_pos < k, (2**y - 1) / np.log2(ideal_pos + 2), 0), minlength=n
    )
    hits = np.bincount(gi, weights=(y > 0) & (pos < k), minlength=n)
    relevant = np.bincount(gi, weights=y > 0, minlength=n)
    m = relevant > 0
    return {
        f"ndcg@{k}": float((dcg[m] / ideal[m]).mean()),
        f"precision@{k}": float((hits[m] / k).mean()),
        f"recall@{k}": float((hits[m] / relevant[m]).mean()),
        "groups": int(m.sum()),
    }


def _positions(group: np.ndarray, score: np.ndarray, product: np.ndarray) -> np.ndarray:
    """0-based position of each row in its group, by score descending then product id."""
    order = np.lexsort((product, -score, group))
    sorted_group = group[order]
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order)) - np.searchsorted(sorted_group, sorted_group)
    return pos


def evaluate_ranker(booster: lgb.Booster, eval_df: pd.DataFrame, k: int = 10) -> dict[str, dict]:
    """Compare the ranker with a popularity baseline (product sales in the prior 90 days).

    Args:
        booster: A ranker from ``train_ranker``.
        eval_df: Candidate rows of the evaluation window.
        k: Cut-off.

    Returns:
        ``{"model": {...}, "baseline": {...}}``.

    """
    scores = booster.predict(feature_matrix(eval_df, booster.feature_name()), num_threads=1)
    return {
        "model": ranking_metrics(eval_df, np.asarray(scores), k),
        "baseline": ranking_metrics(eval_df, eval_df["product_popularity_90d"].to_numpy(), k),
    }
