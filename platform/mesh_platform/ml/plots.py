"""PNG plots of a model: ROC curve, residuals and feature importance (Agg canvas, no display)."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics

# Fixed metadata keeps the PNG bytes independent of the matplotlib version string.
_PNG_METADATA = {"Software": None}


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # An explicit Agg canvas instead of pyplot: no global state, safe in worker threads.
    FigureCanvasAgg(fig).print_png(str(path), metadata=_PNG_METADATA)
    return path


def roc_curve_png(y: np.ndarray, scores: np.ndarray, path: Path) -> Path:
    """Plot the ROC curve of scores against binary labels, with the chance diagonal.

    Args:
        y: Binary labels.
        scores: Model scores, higher meaning more likely positive.
        path: PNG file to write.

    Returns:
        ``path``.

    """
    fpr, tpr, _ = metrics.roc_curve(y, scores)
    auc = metrics.roc_auc_score(y, scores)
    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance / majority (0.5)")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _save(fig, Path(path))


def residuals_png(y: np.ndarray, predictions: np.ndarray, path: Path) -> Path:
    """Plot predictions against actual values, with the diagonal of perfect predictions.

    Args:
        y: Actual values.
        predictions: Predicted values of the same rows.
        path: PNG file to write.

    Returns:
        ``path``.
    """
    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    ax.scatter(y, predictions, s=4, alpha=0.4)
    low, high = float(np.nanmin(y)), float(np.nanmax(y))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", label="perfect")
    ax.set(xlabel="actual", ylabel="predicted", title="predicted vs actual")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return _save(fig, Path(path))


def feature_importance_png(booster: lgb.Booster, path: Path, kind: str = "gain") -> Path:
    """Plot the booster's feature importance as horizontal bars, largest on top.

    Args:
        booster: A trained booster.
        path: PNG file to write.
        kind: ``"gain"`` or ``"split"``.

    Returns:
        ``path``.

    """
    names = np.array(booster.feature_name())
    values = booster.feature_importance(importance_type=kind)
    order = np.argsort(values)
    fig = Figure(figsize=(6, 0.3 * len(names) + 1.2), dpi=100)
    ax = fig.add_subplot()
    ax.barh(names[order], values[order])
    ax.set(xlabel=f"importance ({kind})", title="feature importance")
    fig.tight_layout()
    return _save(fig, Path(path))


def save_plots(
    out_dir: Path,
    booster: lgb.Booster,
    y: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    prefix: str = "model",
    kind: str = "classifier",
) -> list[Path]:
    """Write the feature importance and, given labels and scores, the ROC curve or residuals.

    Args:
        out_dir: Folder to write into (created if missing).
        booster: A trained booster.
        y: Labels of the evaluation window.
        scores: Scores of the same rows.
        prefix: File name prefix, the model's name.
        kind: ``classifier`` (ROC curve) or ``regressor`` (predicted vs actual).

    Returns:
        Paths of the written PNG files.

    """
    out = Path(out_dir)
    paths = [feature_importance_png(booster, out / f"{prefix}_feature_importance.png")]
    if y is not None and scores is not None and kind == "regressor":
        paths.append(residuals_png(y, scores, out / f"{prefix}_residuals.png"))
    elif y is not None and scores is not None:
        paths.append(roc_curve_png(y, scores, out / f"{prefix}_roc_curve.png"))
    return paths
