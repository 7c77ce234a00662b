"""One training of a declared model: point-in-time data, tuning, fit, evaluation, gates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml import features as F
from mesh_platform.ml import promotion, registry
from mesh_platform.ml.drift import reference_profile
from mesh_platform.ml.evaluate import evaluate_classifier, evaluate_ranker
from mesh_platform.ml.plots import save_plots
from mesh_platform.ml.train import score_churn, train_classifier, train_ranker
from mesh_platform.ml.tune import tune

CODE_VERSION = "mesh-platform 0.1.0"


@dataclass
class TrainingResult:
    """What one training produced, for materialisation metadata."""

    version: registry.ModelVersion
    decision: promotion.PromotionDecision
    metrics: dict[str, float]
    baseline: dict[str, float]
    params: dict[str, Any]
    importance: dict[str, float]
    plots: list[Path]
    split: F.TimeSplit
    rows: dict[str, int]


def as_of_dates(end: date, spec: ModelSpec) -> list[date]:
    """Snapshot dates, spaced back from the last date whose label window fits in the data."""
    last = end - timedelta(days=spec.horizon_days)
    return sorted(last - timedelta(days=i * spec.spacing_days) for i in range(spec.snapshots))


def _dataset(con, sources: F.FeatureSources, dates: list[date], spec: ModelSpec) -> pd.DataFrame:
    if spec.kind == "classifier":
        return F.churn_dataset(con, sources, dates, spec.horizon_days)
    return F.ranker_dataset(con, sources, dates, spec.horizon_days)


def _features(spec: ModelSpec) -> list[str]:
    return F.CHURN_FEATURES if spec.kind == "classifier" else F.RANKER_FEATURES


def _evaluate(booster, eval_df: pd.DataFrame, spec: ModelSpec) -> dict[str, dict]:
    if spec.kind == "classifier":
        return evaluate_classifier(booster, eval_df)
    return evaluate_ranker(booster, eval_df, k=spec.top_k)


def _fit(train_df: pd.DataFrame, spec: ModelSpec, params: dict[str, Any]):
    fit = train_classifier if spec.kind == "classifier" else train_ranker
    return fit(train_df, _features(spec), params, seed=spec.seed, num_threads=1)


def _data(sources: F.FeatureSources, spec: ModelSpec) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Training and evaluation rows: time-split, no label window overlapping evaluation."""
    with duckdb.connect() as con:
        end = F.data_end(con, sources)
        dates = as_of_dates(end, spec)
        df = _dataset(con, sources, dates, spec)
    split = F.time_split(dates, spec.horizon_days, end)
    return F.rows_at(df, split.train), F.rows_at(df, split.evaluate), split


def _champion_on(registry_root: Path, name: str, eval_df: pd.DataFrame, spec: ModelSpec):
    """The champion's metrics on this evaluation window: the gate compares like with like."""
    from mesh_platform.ml.scoring import load_booster

    current = registry.champion(registry_root, name)
    return None if current is None else _evaluate(load_booster(current), eval_df, spec)["model"]


def _plots(model, eval_df: pd.DataFrame, spec: ModelSpec, name: str, plot_dir: Path) -> list[Path]:
    if spec.kind != "classifier":
        return save_plots(plot_dir, model.booster, prefix=name)
    scores = score_churn(model.booster, eval_df)
    return save_plots(plot_dir, model.booster, eval_df[spec.target].to_numpy(), scores, prefix=name)


def train_and_register(
    sources: F.FeatureSources, snapshots: dict[str, str], spec: ModelSpec, name: str,
    registry_root: Path, run_id: str | None,
) -> TrainingResult:  # fmt: skip
    """Train one version of a declared model and move ``champion`` only through its gates."""
    train_df, eval_df, split = _data(sources, spec)
    budget = {"trials": spec.tuning.trials, "timeout_s": spec.tuning.timeout_s}
    tuned = tune(spec.kind, train_df, _features(spec), spec.horizon_days, seed=spec.seed,
                 num_threads=1, **budget)  # fmt: skip
    model = _fit(train_df, spec, tuned.best_params)
    evaluation = _evaluate(model.booster, eval_df, spec)
    champion_on_window = _champion_on(registry_root, name, eval_df, spec)
    profile = reference_profile(train_df, model.features, seed=spec.seed)
    version = registry.register(
        registry_root, name, model.booster, tuned.best_params, evaluation["model"],
        features={f: str(train_df[f].dtype) for f in model.features}, data_snapshots=snapshots,
        code_version=CODE_VERSION, lineage_run_id=run_id, evaluation_window=str(split.evaluate),
        baseline_metrics=evaluation["baseline"], gates=spec.gates,
        artifacts={"reference_profile.json": profile},
        trials=tuned.trials, tuning_metric=tuned.metric, dagster_run_id=run_id,
    )  # fmt: skip
    # The primary metric's own gate says which way is better: ">= 0.65" up, "<= 0.4" down.
    higher = not spec.gates[spec.primary_metric].lstrip().startswith("<")
    decision = promotion.promote_if_better(
        registry_root, name, version.version, spec.gates, spec.primary_metric,
        higher_is_better=higher, champion_metrics_on_window=champion_on_window,
    )  # fmt: skip
    gains = model.booster.feature_importance("gain").tolist()
    # Plots are written straight into the version they describe (the UI links to them there),
    # so a training leaves nothing in the system's temporary folder.
    plots = _plots(model, eval_df, spec, name, Path(version.path))
    registry.log_files(version, plots)  # into the version's MLflow run
    return TrainingResult(
        version, decision, evaluation["model"], evaluation["baseline"], tuned.best_params,
        dict(zip(model.features, gains, strict=True)), plots, split,
        {"train": len(train_df), "evaluate": len(eval_df)},
    )  # fmt: skip
