"""One training of a declared model: tuning, fit, evaluation beside a baseline, registry, gates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml import promotion, registry
from mesh_platform.ml.dataset import Rows, TrainingData
from mesh_platform.ml.drift import reference_profile
from mesh_platform.ml.evaluate import evaluate, metrics_of
from mesh_platform.ml.plots import save_plots
from mesh_platform.ml.split import TimeSplit
from mesh_platform.ml.train import fit, predict
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
    split: TimeSplit
    rows: dict[str, int]


def cutoffs(spec: ModelSpec) -> tuple[int, ...]:
    """A ranker's cut-offs: ``top_k`` and every ``@k`` its gates name (e.g. ndcg@5)."""
    named = {m.rsplit("@", 1)[1] for m in spec.gates if "@" in m}
    return (spec.top_k, *sorted({int(k) for k in named if k.isdigit()} - {spec.top_k}))


def higher_is_better(spec: ModelSpec) -> bool:
    """Whether the primary metric improves upwards: its own gate says so (">=" up, "<=" down)."""
    return not spec.gates[spec.primary_metric].lstrip().startswith("<")


def _champion_on(root: Path, name: str, data: TrainingData, spec: ModelSpec) -> dict | None:
    """The champion's metrics on this evaluation window: the gate compares like with like.

    None when there is no champion or it needs a feature this training table no longer has.
    """
    current = registry.champion(root, name)
    if current is None:
        return None
    booster = current.load_booster()
    wanted = booster.feature_name()
    if not set(wanted) <= set(data.features):
        return None
    rows = data.evaluate
    x = rows.x[:, [data.features.index(f) for f in wanted]]
    return metrics_of(spec.kind, rows, predict(booster, x), cutoffs(spec))


def _plots(booster, rows: Rows, spec: ModelSpec, name: str, folder: Path) -> list[Path]:
    """Feature importance; a classifier's ROC curve (both classes seen), a regressor's residuals."""
    curve = spec.kind == "regressor" or (
        spec.kind == "classifier" and len(np.unique(rows.label)) == 2
    )
    if not curve or not len(rows):
        return save_plots(folder, booster, prefix=name)
    scores = predict(booster, rows.x)
    return save_plots(folder, booster, rows.label, scores, prefix=name, kind=spec.kind)


def _register(root, name, booster, tuned, evaluation, data, spec, snapshots, run_id):
    """A new challenger version with its drift reference from the evaluation window."""
    # The evaluation window is the latest labelled as-of date: the nearest like-for-like
    # reference for what is scored now (an older training period drifts by construction).
    profile = reference_profile(data.evaluate.frame(data.features), data.features, seed=spec.seed)
    return registry.register(
        root,
        name,
        booster,
        tuned.best_params,
        evaluation["model"],
        features=data.feature_types,
        data_snapshots=snapshots,
        code_version=CODE_VERSION,
        lineage_run_id=run_id,
        evaluation_window=str(data.split),
        baseline_metrics=evaluation["baseline"],
        gates=spec.gates,
        artifacts={"reference_profile.json": profile},
        trials=tuned.trials,
        tuning_metric=tuned.metric,
        dagster_run_id=run_id,
    )


def train_and_register(
    data: TrainingData,
    spec: ModelSpec,
    name: str,
    registry_root: Path,
    snapshots: dict[str, str],
    run_id: str | None,
) -> TrainingResult:
    """Train one version of a declared model and move ``champion`` only through its gates.

    Args:
        data: The training rows (``dataset.load_training``).
        spec: The declared model.
        name: The model's name (the ML product's).
        registry_root: Registry folder.
        snapshots: Input port -> snapshot id the training table was built from.
        run_id: The run's id (lineage).

    Returns:
        The registered version, its promotion decision and what to show of the run.
    """
    train, held_out = data.train, data.evaluate
    metric = (spec.primary_metric, higher_is_better(spec))
    tuned = tune(
        spec.kind,
        train,
        data.features,
        spec.horizon_days,
        metric,
        k=cutoffs(spec),
        seed=spec.seed,
        trials=spec.tuning.trials,
        timeout_s=spec.tuning.timeout_s,
        params=spec.params,
    )
    booster = fit(spec.kind, train, data.features, tuned.best_params, spec.seed, num_threads=1)
    evaluation = evaluate(spec.kind, booster, held_out, train, cutoffs(spec))
    on_window = _champion_on(registry_root, name, data, spec)
    version = _register(
        registry_root, name, booster, tuned, evaluation, data, spec, snapshots, run_id
    )
    decision = promotion.promote_if_better(
        registry_root,
        name,
        version.version,
        spec.gates,
        spec.primary_metric,
        higher_is_better=metric[1],
        champion_metrics_on_window=on_window,
    )
    gains = booster.feature_importance("gain").tolist()
    # Plots go straight into the version they describe: nothing is left in a temporary folder.
    plots = _plots(booster, held_out, spec, name, Path(version.path))
    registry.log_files(version, plots)  # into the version's MLflow run
    return TrainingResult(
        version,
        decision,
        evaluation["model"],
        evaluation["baseline"],
        tuned.best_params,
        dict(zip(data.features, gains, strict=True)),
        plots,
        data.split,
        {"source": data.source_rows, "train": len(train), "evaluate": len(held_out)},
    )
