"""File-based model registry: immutable versions, their metadata and the `champion` alias."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODEL_FILE = "model.txt"
META_FILE = "meta.json"
ALIASES_FILE = "aliases.json"


class RegistryError(Exception):
    """A registry operation cannot be done (nothing to roll back, bad model file...)."""


class NotFoundError(RegistryError, LookupError):
    """The model or version does not exist."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: its folder and its metadata."""

    name: str
    version: int
    path: Path
    meta: dict[str, Any]

    @property
    def model_file(self) -> Path:
        """The LightGBM text model."""
        return self.path / MODEL_FILE

    @property
    def metrics(self) -> dict[str, float]:
        """Evaluation metrics of this version."""
        return self.meta.get("metrics", {})

    @property
    def status(self) -> str:
        """champion, challenger, retired or rolled_back."""
        return self.meta.get("status", "challenger")

    def load_booster(self) -> Any:
        """Load the model as a `lightgbm.Booster`."""
        import lightgbm as lgb

        return lgb.Booster(model_file=str(self.model_file))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _model_dir(root: Path, name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise RegistryError(f"invalid model name {name!r}")
    return Path(root) / name


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, allow_nan=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(model_dir: Path) -> Iterator[None]:
    """Hold the model's exclusive lock: aliases and version numbers change only under it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / ".lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def _version_numbers(model_dir: Path) -> list[int]:
    # Temporary folders start with a dot: only complete versions have a numeric name.
    versions = model_dir / "versions"
    names = [p.name for p in versions.iterdir()] if versions.exists() else []
    return sorted(int(n) for n in names if n.isdigit())


def _write_model(model: Any, target: Path) -> None:
    """Save a Booster, an sklearn-API LightGBM model, or copy a model file."""
    if isinstance(model, str | os.PathLike):
        source = Path(model)
        if not source.is_file() or source.read_bytes()[:4] != b"tree":  # LightGBM text header
            raise RegistryError(f"{source} is not a LightGBM text model")
        shutil.copyfile(source, target)
        return
    booster = getattr(model, "booster_", model)  # LGBMClassifier & co. wrap a Booster
    if not hasattr(booster, "save_model"):
        raise RegistryError(f"cannot save a {type(model).__name__} as a LightGBM model")
    booster.save_model(str(target))


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
) -> ModelVersion:
    """Register a new version (a challenger) of a model.

    The version is built in a temporary folder and renamed into `versions/<n>/` in one step, so a
    failure or crash never leaves a half-written version.

    Args:
        registry_root: Registry folder (`mesh_paths().registry`).
        name: Model name.
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
        artifacts: Extra JSON files for the version folder (file name -> data), e.g. a drift
            reference profile.

    Returns:
        The registered version.
    """
    model_dir = _model_dir(registry_root, name)
    (model_dir / "versions").mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "name": name, "created_at": _now(), "status": "challenger", "params": dict(params),
        "metrics": dict(metrics), "baseline_metrics": dict(baseline_metrics),
        "features": dict(features), "data_snapshots": dict(data_snapshots),
        "code_version": code_version, "lineage_run_id": lineage_run_id,
        "evaluation_window": evaluation_window, "gates": dict(gates or {}), "decisions": [],
    }  # fmt: skip
    tmp = Path(tempfile.mkdtemp(dir=model_dir / "versions", prefix=".tmp-"))
    try:
        _write_model(booster_or_model_file, tmp / MODEL_FILE)
        for filename, data in (artifacts or {}).items():
            _write_json(tmp / Path(filename).name, data)
        with _locked(model_dir):  # the number is taken and used under the lock
            version = (_version_numbers(model_dir) or [0])[-1] + 1
            meta["version"] = version
            _write_json(tmp / META_FILE, meta)
            os.rename(tmp, model_dir / "versions" / str(version))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ModelVersion(name, version, model_dir / "versions" / str(version), meta)


def list_models(registry_root: Path) -> list[str]:
    """Names of every registered model."""
    root = Path(registry_root)
    found = root.iterdir() if root.exists() else []
    return sorted(p.name for p in found if (p / "versions").is_dir())


def show(registry_root: Path, name: str, version: int | None = None) -> ModelVersion:
    """One version of a model (the champion when `version` is None)."""
    model_dir = _model_dir(registry_root, name)
    if version is None:
        version = _read_aliases(model_dir)["champion"]
        if version is None:
            raise NotFoundError(f"model '{name}' has no champion")
    path = model_dir / "versions" / str(version)
    if not (path / META_FILE).is_file():
        known = _version_numbers(model_dir) or "none"
        raise NotFoundError(f"model '{name}' has no version {version} (versions: {known})")
    return ModelVersion(name, int(version), path, json.loads((path / META_FILE).read_text()))


def list_versions(registry_root: Path, name: str) -> list[ModelVersion]:
    """Every complete version of a model, oldest first."""
    model_dir = _model_dir(registry_root, name)
    if not (model_dir / "versions").is_dir():
        raise NotFoundError(f"no model '{name}' in {registry_root}")
    return [show(registry_root, name, v) for v in _version_numbers(model_dir)]


def champion(registry_root: Path, name: str) -> ModelVersion | None:
    """The current champion, or None."""
    version = _read_aliases(_model_dir(registry_root, name))["champion"]
    return None if version is None else show(registry_root, name, version)


def aliases(registry_root: Path, name: str) -> dict[str, Any]:
    """The model's aliases: `champion` and the `history` of previous champions."""
    return _read_aliases(_model_dir(registry_root, name))


def _read_aliases(model_dir: Path) -> dict[str, Any]:
    path = model_dir / ALIASES_FILE
    return json.loads(path.read_text()) if path.exists() else {"champion": None, "history": []}
