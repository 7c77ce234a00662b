"""File-based model registry: immutable versions, a gated `champion` alias, rollback history."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesh_platform.ml.gates import check_gates, compare_with_champion

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


@dataclass
class PromotionDecision:
    """Whether a version became champion, and why (or why not)."""

    promoted: bool
    reasons: list[str] = field(default_factory=list)
    version: int = 0
    previous_champion: int | None = None


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


def _update_meta(
    root: Path, name: str, version: int, status: str | None, decision: dict[str, Any] | None
) -> None:
    """Set a version's status and append a decision to its meta.json (caller holds the lock)."""
    meta = show(root, name, version).meta
    meta["status"] = status or meta["status"]
    meta["decisions"] += [decision] if decision else []
    _write_json(_model_dir(root, name) / "versions" / str(version) / META_FILE, meta)


def _set_champion(root: Path, name: str, new: int, decision: dict[str, Any]) -> int | None:
    """Move the alias to `new`, pushing the old champion onto the history (lock held)."""
    model_dir = _model_dir(root, name)
    state = _read_aliases(model_dir)
    old = state["champion"]
    if old is not None:
        state["history"].append({"version": old, "replaced_at": _now(), "replaced_by": new})
        _update_meta(root, name, old, "retired", None)
    state["champion"] = new
    _write_json(model_dir / ALIASES_FILE, state)
    _update_meta(root, name, new, "champion", decision)
    return old


def _champion_on_window(
    candidate: ModelVersion, current: ModelVersion, on_window: Mapping[str, float] | None
) -> tuple[Mapping[str, float] | None, str]:
    """The champion's metrics on the candidate's window, or why they are unknown."""
    if on_window is not None:  # an explicit re-evaluation on the candidate's window wins
        return on_window, ""
    window, theirs = candidate.meta.get("evaluation_window"), current.meta.get("evaluation_window")
    if window == theirs:
        return current.metrics, ""
    return None, (
        f"champion v{current.version} was evaluated on {json.dumps(theirs)}, the candidate on "
        f"{json.dumps(window)}: pass champion_metrics_on_window (the champion re-evaluated on the "
        "candidate's window) to compare them"
    )


def promote_if_better(
    registry_root: Path,
    name: str,
    version: int,
    gates: Mapping[str, str],
    primary_metric: str,
    higher_is_better: bool = True,
    champion_metrics_on_window: Mapping[str, float] | None = None,
) -> PromotionDecision:
    """Make a version champion if it passes every gate and beats the champion on its window.

    Args:
        registry_root: Registry folder.
        name: Model name.
        version: The candidate version.
        gates: Metric -> gate expression, e.g. `{"roc_auc": ">= 0.65"}`.
        primary_metric: Metric on which the candidate must beat the champion.
        higher_is_better: Whether a larger primary metric is better.
        champion_metrics_on_window: The champion's metrics re-evaluated on the candidate's
            evaluation window; needed when the champion was evaluated on another window.

    Returns:
        The decision, also appended to the candidate's `decisions` in its meta.json.
    """
    model_dir = _model_dir(registry_root, name)
    with _locked(model_dir):  # the champion cannot move between the comparison and the switch
        candidate = show(registry_root, name, version)
        current = champion(registry_root, name)
        reasons = check_gates(candidate.metrics, gates)
        passed = not reasons
        if current is not None and current.version == candidate.version:
            passed, reasons = False, reasons + [f"v{version} is already the champion"]
        elif current is not None:
            theirs, why = _champion_on_window(candidate, current, champion_metrics_on_window)
            beats, why = (False, why) if theirs is None else compare_with_champion(
                candidate.metrics, theirs, primary_metric, higher_is_better,
                f"champion v{current.version}")  # fmt: skip
            passed, reasons = passed and beats, reasons + [why]
        elif passed:
            reasons.append("no champion yet")
        if passed:
            reasons.insert(0, f"passed {len(gates)} gate(s)")
        decision = PromotionDecision(passed, reasons, version, current and current.version)
        record = {"at": _now(), "action": "promote_if_better", "promoted": passed,
                  "reasons": reasons, "champion_before": decision.previous_champion,
                  "gates": dict(gates), "primary_metric": primary_metric,
                  "higher_is_better": higher_is_better,
                  "champion_metrics_on_window": champion_metrics_on_window}  # fmt: skip
        if passed:
            _set_champion(registry_root, name, version, record)
        else:
            _update_meta(registry_root, name, version, None, record)
    return decision


def promote(
    registry_root: Path,
    name: str,
    version: int,
    *,
    gates: Mapping[str, str] | None = None,
    force: bool = False,
) -> PromotionDecision:
    """Make a version champion by hand: it must pass its gates unless `force`.

    Args:
        registry_root: Registry folder.
        name: Model name.
        version: The version to promote.
        gates: Gates to check; by default those recorded with the version.
        force: Promote even when gates fail (the failures are recorded).

    Returns:
        The decision; a promotion is also recorded in the version's meta.json.
    """
    with _locked(_model_dir(registry_root, name)):
        candidate = show(registry_root, name, version)
        current = champion(registry_root, name)
        gates = candidate.meta.get("gates", {}) if gates is None else gates
        failures = check_gates(candidate.metrics, gates or {})
        previous = current and current.version
        if previous == version:
            failures = [f"v{version} is already the champion"]
        if previous == version or (failures and not force):
            return PromotionDecision(False, failures, version, previous)
        reasons = ["manual promotion"] + [f"forced past: {f}" for f in failures]
        if not gates:
            reasons.append("no gates recorded with this version")
        record = {"at": _now(), "action": "force" if force else "promote", "promoted": True,
                  "reasons": reasons, "champion_before": previous}  # fmt: skip
        _set_champion(registry_root, name, version, record)
    return PromotionDecision(True, reasons, version, previous)


def rollback(registry_root: Path, name: str) -> ModelVersion:
    """Restore the previous champion from the history; returns the restored version."""
    model_dir = _model_dir(registry_root, name)
    with _locked(model_dir):
        state = _read_aliases(model_dir)
        if not state["history"]:
            raise RegistryError(f"model '{name}' has no previous champion to roll back to")
        restored = state["history"].pop()["version"]
        current = state["champion"]
        state["champion"] = restored
        _write_json(model_dir / ALIASES_FILE, state)
        record = {"at": _now(), "action": "rollback", "from": current, "to": restored}
        _update_meta(registry_root, name, current, "rolled_back", record)
        _update_meta(registry_root, name, restored, "champion", record)
    return show(registry_root, name, restored)
