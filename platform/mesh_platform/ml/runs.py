"""One training as an MLflow run: params, metrics beside the baseline, trials, tags, files."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
from mlflow import MlflowClient
from mlflow import lightgbm as mlflow_lightgbm
from mlflow.entities import Metric, Param, RunTag

from mesh_platform.ml import tracking

TRIAL_PREFIX = "trial-"
MODEL_FILE = "model.txt"  # the LightGBM text model beside the flavour, for `ModelVersion.path`
MODEL_ARTIFACT = "model"  # the LightGBM flavour of the run's logged model
_BAD_KEY = re.compile(r"[^\w./ -]")  # MLflow keys: letters, digits, _ - . / and space


def key(text: str) -> str:
    """A valid MLflow param, metric or tag key for ``text`` (e.g. a port name with ``@``)."""
    return _BAD_KEY.sub("_", text)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


def run_tags(meta: Mapping[str, Any], extra: Mapping[str, str]) -> dict[str, str]:
    """Searchable tags of a training run: data snapshots, run ids, code version, window."""
    tags = {
        "mesh.model": meta["name"],
        "mesh.code_version": meta["code_version"],
        "mesh.evaluation_window": _value(meta["evaluation_window"]),
        "mesh.data_snapshots": _value(meta["data_snapshots"]),
        "mesh.gates": _value(meta["gates"]),
    }
    for port, snapshot in meta["data_snapshots"].items():
        tags[key(f"mesh.snapshot.{port}")] = str(snapshot)
    for name in ("lineage_run_id", "dagster_run_id"):
        if meta.get(name):
            tags[f"mesh.{name}"] = str(meta[name])
    return tags | dict(extra)


def log_run_data(client: MlflowClient, run_id: str, meta: Mapping[str, Any]) -> None:
    """Params, metrics and ``baseline_<metric>`` of the version, in one batch."""
    params = [Param(key(k), _value(v)[:6000]) for k, v in sorted(meta["params"].items())]
    metrics = {
        **meta["metrics"],
        **{f"baseline_{k}": v for k, v in meta["baseline_metrics"].items()},
    }
    stamp = _millis()
    client.log_batch(
        run_id,
        metrics=[Metric(key(k), float(v), stamp, 0) for k, v in metrics.items()],
        params=params,
    )


def log_trials(
    client: MlflowClient, experiment_id: str, parent: str, trials: Sequence[Mapping[str, Any]],
    metric: str,
) -> None:  # fmt: skip
    """Each tuning trial as a nested run, and the objective as a stepped metric of the parent."""
    stamp, steps = _millis(), []
    for trial in trials:
        number = int(trial.get("number", len(steps)))
        child = client.create_run(experiment_id, tags={
            "mlflow.parentRunId": parent, "mlflow.runName": f"{TRIAL_PREFIX}{number}",
            "mesh.trial_state": str(trial.get("state", ""))})  # fmt: skip
        values = {metric: trial.get("value"), "seconds": trial.get("seconds")}
        found = [
            Metric(key(k), float(v), stamp, number) for k, v in values.items() if v is not None
        ]
        client.log_batch(
            child.info.run_id,
            metrics=found,
            params=[Param(key(k), _value(v)) for k, v in (trial.get("params") or {}).items()],
        )
        client.set_terminated(child.info.run_id)
        if trial.get("value") is not None:
            steps.append(Metric(key(f"tuning_{metric}"), float(trial["value"]), stamp, number))
    client.log_batch(parent, metrics=steps, tags=[RunTag("mesh.trials", str(len(trials)))])


def log_training(
    root: Path, booster: lgb.Booster, meta: Mapping[str, Any], files: Mapping[str, Any],
    trials: Sequence[Mapping[str, Any]], tuning_metric: str, tags: Mapping[str, str],
) -> int:  # fmt: skip
    """Log one training as a run of the model's experiment; register its model; its number.

    The version is registered last: a failure before leaves a FAILED run and no version. The
    caller holds the model's lock.
    """
    name = meta["name"]
    client, experiment = tracking.client(root), tracking.experiment_id(root, name)
    with (
        tracking.fluent(root),
        mlflow.start_run(experiment_id=experiment, run_name=f"{name}-train",
                         tags=run_tags(meta, tags)) as run,
    ):  # fmt: skip
        log_run_data(client, run.info.run_id, meta)
        if trials:
            log_trials(client, experiment, run.info.run_id, trials, tuning_metric)
        mlflow.log_text(booster.model_to_string(), MODEL_FILE)
        for filename, data in files.items():
            mlflow.log_text(json.dumps(data, indent=2, sort_keys=True), Path(filename).name)
        info = mlflow_lightgbm.log_model(
            booster, name=MODEL_ARTIFACT, registered_model_name=name,
            pip_requirements=[f"lightgbm=={lgb.__version__}"],  # no inference subprocess
        )  # fmt: skip
    return int(info.registered_model_version or 0)


def _millis() -> int:
    import time

    return int(time.time() * 1000)
