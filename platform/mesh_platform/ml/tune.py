"""Bounded Optuna search over a small LightGBM space, validated inside the training period."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import optuna

from mesh_platform.ml.dataset import Rows
from mesh_platform.ml.evaluate import metrics_of
from mesh_platform.ml.split import time_split
from mesh_platform.ml.train import PARAMS, fit, predict

# The metric each kind tunes for when the primary metric is not one it computes.
DEFAULT_METRIC = {"classifier": ("roc_auc", True), "regressor": ("rmse", False)}


@dataclass(frozen=True)
class TuneResult:
    """Best parameters (merged over the kind's defaults) and a summary of every trial."""

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


def validation_split(train: Rows, horizon_days: int) -> tuple[Rows, Rows] | None:
    """Carve (fit, validation) from the training period: its last as-of date validates.

    Fit dates keep only those whose label window closes by the validation date, the rule
    ``time_split`` applies between training and evaluation. None when the period has too few
    dates for that (the kind's defaults are then used as they are).
    """
    dates = train.dates()
    if not dates:
        return None
    try:
        inner = time_split(dates, horizon_days, dates[-1] + timedelta(days=horizon_days))
    except ValueError:
        return None
    return train.between(inner.train[0], inner.train[-1]), train.between(
        inner.evaluate, inner.evaluate
    )


def _summary(study: optuna.Study) -> list[dict[str, Any]]:
    return [
        {
            "number": t.number,
            "value": t.value,
            "state": t.state.name,
            "seconds": t.duration.total_seconds() if t.duration else None,
            "params": t.params,
        }
        for t in study.trials
    ]


def tune(
    kind: str,
    train: Rows,
    features: list[str],
    horizon_days: int,
    metric: tuple[str, bool],
    *,
    k: int | tuple[int, ...] = 10,
    seed: int = 0,
    trials: int = 20,
    timeout_s: float | None = None,
    params: dict[str, Any] | None = None,
) -> TuneResult:
    """Search LightGBM parameters with a seeded TPE sampler, bounded by trials and time.

    The objective is measured on the last as-of date of the training period, never on the
    evaluation window. Bounded by ``trials`` alone the result is reproducible for a seed;
    ``timeout_s`` trades that for a time cap. Every fit is single-threaded.

    Args:
        kind: ``classifier``, ``regressor`` or ``ranker``.
        train: Training rows (several as-of dates).
        features: Feature names in matrix order.
        horizon_days: Label horizon, to keep fit labels out of the validation window.
        metric: ``(name, higher_is_better)``; a metric the kind does not compute falls back to
            its default (ROC AUC, RMSE, NDCG@k).
        k: Ranker cut-off(s); the first is the default objective's.
        seed: Seed of the sampler and of every fit.
        trials: Maximum number of trials.
        timeout_s: Optional wall-clock cap of the whole search in seconds.
        params: LightGBM parameters the model fixes (``model.params``), kept in every trial.

    Returns:
        Best parameters merged over the kind's defaults, best value and per-trial summary.
    """
    fixed = dict(params or {})
    defaults = {**PARAMS[kind], **fixed}
    split = validation_split(train, horizon_days)
    name, higher = metric
    if name not in _metric_names(kind, k):
        first = k if isinstance(k, int) else k[0]
        name, higher = DEFAULT_METRIC.get(kind, (f"ndcg@{first}", True))
    if split is None or not len(split[0]) or not len(split[1]):
        return TuneResult(defaults, float("nan"), name, 0.0)
    fit_rows, valid = split

    def objective(trial: optuna.Trial) -> float:
        trial_params = {**search_space(trial), **fixed}  # what the model fixes is not searched
        booster = fit(kind, fit_rows, features, trial_params, seed, num_threads=1)
        return metrics_of(kind, valid, predict(booster, valid.x), k)[name]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if higher else "minimize"
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
    started = time.perf_counter()
    stop = [] if timeout_s is None else [_stop_before_overrun(started, timeout_s)]
    study.optimize(objective, n_trials=trials, timeout=timeout_s, callbacks=stop)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        return TuneResult(defaults, float("nan"), name, time.perf_counter() - started)
    return TuneResult(
        best_params={**defaults, **study.best_params, **fixed},
        best_value=float(study.best_value),
        metric=name,
        seconds=time.perf_counter() - started,
        trials=_summary(study),
    )


def _stop_before_overrun(started: float, timeout_s: float):
    """Stop the search when the next trial, as long as the longest so far, would overrun.

    Optuna checks its timeout only between trials, so a trial started just before the limit
    runs to its end: a 20 s budget measured 41 s at scale 10 (bench/README.md, bench_ml).
    """

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        longest = max((t.duration.total_seconds() for t in study.trials if t.duration), default=0)
        if time.perf_counter() - started + longest > timeout_s:
            study.stop()

    return callback


def _metric_names(kind: str, k: int | tuple[int, ...]) -> set[str]:
    if kind == "classifier":
        return {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    if kind == "regressor":
        return {"rmse", "mae", "r2", "bias"}
    cuts = (k,) if isinstance(k, int) else k
    return {f"{m}@{c}" for c in cuts for m in ("ndcg", "precision", "recall")}
