"""Bounded Optuna search over a small LightGBM space, validated inside the training period."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd

from mesh_platform.ml.evaluate import classifier_metrics, ranking_metrics
from mesh_platform.ml.features import rows_at, time_split
from mesh_platform.ml.train import (
    CLASSIFIER_PARAMS,
    RANKER_PARAMS,
    feature_matrix,
    score_churn,
    train_classifier,
    train_ranker,
)

Task = Literal["classifier", "ranker"]


@dataclass(frozen=True)
class TuneResult:
    """Best parameters (merged over the task defaults) and a summary of every trial."""

    best_params: dict[str, Any]
    best_value: float
    metric: str
    seconds: float
    trials: list[dict[str, Any]] = field(default_factory=list)


def search_space(trial: optuna.Trial) -> dict[str, Any]:
    """Suggest one LightGBM configuration; small on purpose so few trials cover it."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 10, 200, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        "num_boost_round": trial.suggest_int("num_boost_round", 50, 300, step=50),
    }


def validation_split(train_df: pd.DataFrame, horizon_days: int) -> tuple[pd.DataFrame, ...]:
    """Carve (fit, validation) from the training period: its last as-of date validates.

    Fit snapshots keep only those whose label horizon closes by the validation date, the same
    rule ``time_split`` applies between training and evaluation.

    Args:
        train_df: Training rows with ``as_of_date``.
        horizon_days: Label horizon of the task.

    Returns:
        ``(fit_df, valid_df)``.

    """
    dates = sorted({ts.date() for ts in pd.to_datetime(train_df["as_of_date"].unique())})
    inner = time_split(dates, horizon_days, dates[-1] + timedelta(days=horizon_days))
    return rows_at(train_df, inner.train), rows_at(train_df, inner.evaluate)


def _objective(task: Task, fit_df, valid_df, features, seed: int, num_threads: int):
    def objective(trial: optuna.Trial) -> float:
        params = search_space(trial)
        if task == "classifier":
            model = train_classifier(fit_df, features, params, seed, num_threads)
            proba = score_churn(model.booster, valid_df, num_threads)
            return classifier_metrics(valid_df["churned"].to_numpy(), proba)["roc_auc"]
        model = train_ranker(fit_df, features, params, seed, num_threads)
        scores = model.booster.predict(feature_matrix(valid_df, features), num_threads=num_threads)
        return ranking_metrics(valid_df, np.asarray(scores))["ndcg@10"]

    return objective


def tune(
    task: Task,
    train_df: pd.DataFrame,
    features: list[str],
    horizon_days: int,
    seed: int = 0,
    trials: int = 20,
    timeout_s: float | None = None,
    num_threads: int = 1,
) -> TuneResult:
    """Search LightGBM parameters with a seeded TPE sampler, bounded by trials and time.

    The objective (ROC AUC for the classifier, NDCG@10 for the ranker) is measured on the
    last as-of date of the training period, never on the evaluation window. Bounded by
    ``trials`` alone the result is reproducible for a seed; ``timeout_s`` trades that for a
    time cap (the number of finished trials then depends on machine speed).

    Args:
        task: ``"classifier"`` (churn) or ``"ranker"``.
        train_df: Training rows of the task (several as-of dates).
        features: Feature columns.
        horizon_days: Label horizon, used to keep fit labels out of the validation window.
        seed: Seed of the sampler and of every fit.
        trials: Maximum number of trials.
        timeout_s: Optional wall-clock cap of the whole search in seconds.
        num_threads: OpenMP threads per fit (trials run one after another).

    Returns:
        Best parameters merged over the task defaults, best value and per-trial summary.

    """
    fit_df, valid_df = validation_split(train_df, horizon_days)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    objective = _objective(task, fit_df, valid_df, features, seed, num_threads)
    started = time.perf_counter()
    study.optimize(objective, n_trials=trials, timeout=timeout_s)
    defaults = CLASSIFIER_PARAMS if task == "classifier" else RANKER_PARAMS
    summary = [
        {
            "number": t.number,
            "value": t.value,
            "state": t.state.name,
            "seconds": t.duration.total_seconds() if t.duration else None,
            "params": t.params,
        }
        for t in study.trials
    ]
    return TuneResult(
        best_params={**defaults, **study.best_params},
        best_value=float(study.best_value),
        metric="roc_auc" if task == "classifier" else "ndcg@10",
        seconds=time.perf_counter() - started,
        trials=summary,
    )
