"""Metrics of each model kind beside a naive baseline on the same evaluation rows."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
from sklearn import metrics

from mesh_platform.ml.dataset import Rows
from mesh_platform.ml.train import predict


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


def regressor_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """RMSE, MAE, R2 and mean error (bias) of predictions."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    error = pred - y
    total = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
    return {
        "rmse": float(np.sqrt((error**2).mean())),
        "mae": float(np.abs(error).mean()),
        "r2": 1 - float((error**2).sum()) / total if total else float("nan"),
        "bias": float(error.mean()),
        "rows": len(y),
    }


def _positions(query: np.ndarray, score: np.ndarray) -> np.ndarray:
    """0-based position of each row in its query, by score descending then row order."""
    order = np.lexsort((np.arange(len(score)), -score, query))
    sorted_query = query[order]
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order)) - np.searchsorted(sorted_query, sorted_query)
    return pos


def ranking_metrics(query: np.ndarray, y: np.ndarray, scores: np.ndarray, k: int = 10) -> dict:
    """Mean NDCG@k, precision@k and recall@k over queries with at least one relevant item.

    Recall is relative to the relevant items among the candidates. Ties keep row order.

    Args:
        query: Query id per row (sorted, contiguous).
        y: Graded relevance.
        scores: Higher is better.
        k: Cut-off.

    Returns:
        Metric name -> value, plus ``groups`` evaluated.
    """
    _, gi = np.unique(query, return_inverse=True)
    y = np.asarray(y, dtype=float)
    pos, ideal_pos = _positions(gi, np.asarray(scores, dtype=float)), _positions(gi, y)
    n = int(gi.max()) + 1 if len(gi) else 0
    gain = 2**y - 1
    dcg = np.bincount(gi, weights=np.where(pos < k, gain / np.log2(pos + 2), 0), minlength=n)
    ideal = np.bincount(
        gi, weights=np.where(ideal_pos < k, gain / np.log2(ideal_pos + 2), 0), minlength=n
    )
    hits = np.bincount(gi, weights=(y > 0) & (pos < k), minlength=n)
    relevant = np.bincount(gi, weights=y > 0, minlength=n)
    m = relevant > 0
    mean = (lambda v: float(v.mean())) if m.any() else (lambda v: float("nan"))
    return {
        f"ndcg@{k}": mean(dcg[m] / ideal[m]),
        f"precision@{k}": mean(hits[m] / k),
        f"recall@{k}": mean(hits[m] / relevant[m]),
        "groups": int(m.sum()),
    }


def metrics_of(kind: str, rows: Rows, scores: np.ndarray, k: int | tuple[int, ...]) -> dict:
    """The metrics of a kind for scores of rows (a ranker's at each cut-off ``k``)."""
    if kind == "classifier":
        return classifier_metrics(rows.label, scores)
    if kind == "regressor":
        return regressor_metrics(rows.label, scores)
    assert rows.query is not None, "a ranker's rows carry query ids"
    found: dict = {}
    for cut in (k,) if isinstance(k, int) else k:
        found |= ranking_metrics(rows.query, rows.label, scores, cut)
    return found


def baseline_metrics(kind: str, rows: Rows, train: Rows, k: int | tuple[int, ...]) -> dict:
    """The naive baseline on the same rows: its column if declared, else a constant.

    A classifier without a baseline column predicts the majority class at the training prior
    (ROC AUC 0.5); a regressor predicts the training mean. A ranker always has its column.
    """
    if rows.baseline is not None:
        return metrics_of(kind, rows, rows.baseline, k)
    prior = float(train.label.mean()) if len(train) else 0.0
    if kind == "regressor":
        return regressor_metrics(rows.label, np.full(len(rows), prior))
    found = classifier_metrics(rows.label, np.full(len(rows), float(prior >= 0.5)))
    found["log_loss"] = classifier_metrics(rows.label, np.full(len(rows), prior))["log_loss"]
    found["roc_auc"] = 0.5
    return found


def evaluate(
    kind: str, booster: lgb.Booster, rows: Rows, train: Rows, k: int | tuple[int, ...]
) -> dict[str, dict]:
    """The model and its naive baseline on the same evaluation rows.

    Returns:
        ``{"model": {...}, "baseline": {...}}``.
    """
    model = metrics_of(kind, rows, predict(booster, rows.x), k)
    return {"model": model, "baseline": baseline_metrics(kind, rows, train, k)}
