"""Model registry on MLflow: a version per training run, `champion` an alias moved by gates.

Every `register` is an MLflow run of the model's experiment (params, metrics beside
``baseline_<metric>``, tuning trials as nested runs, tags naming the data snapshots and runs) whose
LightGBM flavour becomes a registered model version: ``mlflow.lightgbm.load_model(
"models:/<name>@champion")`` loads the champion. `ModelVersion.path` is a local folder with the
run's files (``model.txt``, ``meta.json``, extra artifacts, plots). Status, promotion decisions and
the champion history are tags of the version and of the registered model. Only `promotion` moves
the alias. MLflow is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesh_platform.ml import tracking

MODEL_FILE = "model.txt"  # also `runs.MODEL_FILE`
META_FILE = "meta.json"

CHAMPION = "champion"
CACHE = "cache"  # local copies of versions whose artifacts are not on this machine
STATUS_TAG, DECISIONS_TAG, HISTORY_TAG = "mesh.status", "mesh.decisions", "mesh.champion_history"


class RegistryError(Exception):
    """A registry operation cannot be done (nothing to roll back, bad model file...)."""


class NotFoundError(RegistryError, LookupError):
    """The model or version does not exist."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: a local folder with its files, its metadata and its MLflow run."""

    name: str
    version: int
    path: Path
    meta: dict[str, Any]
    run_id: str | None = None
    root: Path | None = field(default=None, repr=False, compare=False)  # the registry_root

    @property
    def model_file(self) -> Path:
        """The LightGBM text model."""
        return self.path / MODEL_FILE

    @property
    def metrics(self) -> dict[str, float]:
        """Evaluation metrics of this version."""
        return self.meta.get("metrics", {})

    @property
    def gate_metrics(self) -> dict[str, float]:
        """The metrics gates judge: the version's, and the baseline's as ``baseline_<metric>``."""
        baseline = self.meta.get("baseline_metrics", {})
        return {**self.metrics, **{f"baseline_{k}": v for k, v in baseline.items()}}

    @property
    def status(self) -> str:
        """champion, challenger, retired or rolled_back."""
        return self.meta.get("status", "challenger")

    @property
    def uri(self) -> str:
        """The MLflow model URI of this version, ``models:/<name>/<version>``."""
        return f"models:/{self.name}/{self.version}"

    def load_booster(self) -> Any:
        """Load the model as a `lightgbm.Booster`."""
        import lightgbm as lgb

        return lgb.Booster(model_file=str(self.model_file))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_name(name: str) -> None:
    if not name or "/" in name or "'" in name or name.startswith((".", "_")):
        raise RegistryError(f"invalid model name {name!r}")


def _booster(model: Any) -> Any:
    """A Booster from a Booster, an sklearn-API LightGBM model, or a LightGBM text model file."""
    import lightgbm as lgb

    if isinstance(model, str | os.PathLike):
        source = Path(model)
        if not source.is_file() or source.read_bytes()[:4] != b"tree":  # LightGBM text header
            raise RegistryError(f"{source} is not a LightGBM text model")
        return lgb.Booster(model_file=str(source))
    booster = getattr(model, "booster_", model)  # LGBMClassifier & co. wrap a Booster
    if not isinstance(booster, lgb.Booster):
        raise RegistryError(f"cannot save a {type(model).__name__} as a LightGBM model")
    return booster


def register(
    registry_root: Path,
    name: str,
    booster_or_model_file: Any,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    features: Mapping[str, str],
    data_snapshots: Mapping[str, str],
    code_version: str,
    lineage_run_id: str | None,
    evaluation_window: Any,
    baseline_metrics: Mapping[str, float],
    *,
    gates: Mapping[str, str] | None = None,
    artifacts: Mapping[str, Any] | None = None,
    trials: Sequence[Mapping[str, Any]] | None = None,
    tuning_metric: str = "objective",
    dagster_run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register a new version (a challenger): one MLflow run, then one registered version.

    The version is registered last, after every file is logged: a failure leaves a failed run and
    no version.

    Args:
        registry_root: The embedded MLflow folder (`mesh_paths().registry`).
        name: Model name (registered model and experiment).
        booster_or_model_file: `lightgbm.Booster`, an sklearn-API LightGBM model or a model file.
        params: Training parameters.
        metrics: Evaluation metrics on `evaluation_window`.
        features: Feature name -> type.
        data_snapshots: Input port -> snapshot id the model was trained on.
        code_version: Git commit (or other version) of the training code.
        lineage_run_id: OpenLineage run id of the training run.
        evaluation_window: What the metrics were measured on (JSON value, compared for equality).
        baseline_metrics: Metrics of a naive baseline on the same window.
        gates: The product's metric gates, kept for manual promotions.
        artifacts: Extra JSON files for the version (file name -> data), e.g. a drift profile.
        trials: Tuning trials (``number``, ``value``, ``params``, ``state``, ``seconds``), logged
            as nested runs and as the stepped metric ``tuning_<tuning_metric>``.
        tuning_metric: Name of the trials' objective value.
        dagster_run_id: The Dagster run that trained it (a tag).
        tags: More tags for the run.

    Returns:
        The registered version.
    """
    _check_name(name)
    booster, root = _booster(booster_or_model_file), Path(registry_root)
    meta: dict[str, Any] = {
        "name": name, "created_at": _now(), "params": dict(params),
        "metrics": dict(metrics), "baseline_metrics": dict(baseline_metrics),
        "features": dict(features), "data_snapshots": dict(data_snapshots),
        "code_version": code_version, "lineage_run_id": lineage_run_id,
        "dagster_run_id": dagster_run_id, "evaluation_window": evaluation_window,
        "gates": dict(gates or {}),
    }  # fmt: skip
    from mesh_platform.ml import runs  # imports MLflow

    with tracking.locked(root, name):
        number = runs.log_training(root, booster, meta, {**(artifacts or {}), META_FILE: meta},
                                   trials or [], tuning_metric, tags or {})  # fmt: skip
    return show(root, name, number)


def log_files(version: ModelVersion, paths: Sequence[Path]) -> None:
    """Log files made after `register` (plots...) into the version's MLflow run.

    A file already written into `ModelVersion.path` of the embedded store is already there.
    """
    if version.run_id is None or version.root is None:
        raise RegistryError(f"{version.uri} has no MLflow run to log files into")
    client = tracking.client(version.root)
    cached = Path(version.root, CACHE) in version.path.parents
    for path in map(Path, paths):
        if cached or path.resolve().parent != version.path.resolve():
            client.log_artifact(version.run_id, str(path))


def _version(client: Any, root: Path, mv: Any) -> ModelVersion:
    path = tracking.local_artifacts(client, root, mv.run_id, Path(CACHE, mv.name, str(mv.version)))
    meta_file = path / META_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {"name": mv.name}
    meta |= {"version": int(mv.version), "status": mv.tags.get(STATUS_TAG, "challenger"),
             "decisions": json.loads(mv.tags.get(DECISIONS_TAG, "[]")), "mlflow_run_id": mv.run_id,
             "model_uri": f"models:/{mv.name}/{mv.version}"}  # fmt: skip
    return ModelVersion(mv.name, int(mv.version), path, meta, mv.run_id, root)


def list_models(registry_root: Path) -> list[str]:
    """Names of every registered model."""
    client = tracking.store_client(registry_root)
    found = client.search_registered_models(max_results=1000) if client else []
    return sorted(m.name for m in found)


def show(registry_root: Path, name: str, version: int | None = None) -> ModelVersion:
    """One version of a model (the champion when `version` is None)."""
    _check_name(name)
    if version is None:
        version = aliases(registry_root, name)["champion"]
        if version is None:
            raise NotFoundError(f"model '{name}' has no champion")
    client = tracking.store_client(registry_root)
    found = client is not None and tracking.registered_model(client, name)
    mv = tracking.model_version(client, name, version) if client and found else None
    if client is None or not mv:
        known = [v.version for v in list_versions(registry_root, name)] if found else []
        raise NotFoundError(
            f"model '{name}' has no version {version} (versions: {known or 'none'})"
        )
    return _version(client, Path(registry_root), mv)


def list_versions(registry_root: Path, name: str) -> list[ModelVersion]:
    """Every version of a model, oldest first."""
    _check_name(name)
    client = tracking.store_client(registry_root)
    if client is None or tracking.registered_model(client, name) is None:
        raise NotFoundError(f"no model '{name}' in {tracking.registry_uri(registry_root)}")
    found = client.search_model_versions(f"name = '{name}'", max_results=10_000)
    ordered = sorted(found, key=lambda v: int(v.version))
    return [_version(client, Path(registry_root), mv) for mv in ordered]


def champion(registry_root: Path, name: str) -> ModelVersion | None:
    """The current champion, or None."""
    version = aliases(registry_root, name)["champion"]
    return None if version is None else show(registry_root, name, version)


def aliases(registry_root: Path, name: str) -> dict[str, Any]:
    """The model's aliases: `champion` and the `history` of previous champions."""
    _check_name(name)
    client = tracking.store_client(registry_root)
    model = client and tracking.registered_model(client, name)
    if not model:
        return {"champion": None, "history": []}
    best = model.aliases.get(CHAMPION)
    history = json.loads(model.tags.get(HISTORY_TAG, "[]"))
    return {"champion": None if best is None else int(best), "history": history}
