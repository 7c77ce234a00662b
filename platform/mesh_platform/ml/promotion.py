"""Gated promotion of registered versions to `champion`, manual promotion and rollback.

The MLflow alias `champion` moves only here, under the model's lock; its history is a tag of the
registered model, each version's status and decisions are tags of the version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_platform.ml import tracking
from mesh_platform.ml.gates import check_gates, compare_with_champion
from mesh_platform.ml.registry import (
    CHAMPION,
    DECISIONS_TAG,
    HISTORY_TAG,
    STATUS_TAG,
    ModelVersion,
    RegistryError,
    _check_name,
    _now,
    aliases,
    champion,
    show,
)


@dataclass
class PromotionDecision:
    """Whether a version became champion, and why (or why not)."""

    promoted: bool
    reasons: list[str] = field(default_factory=list)
    version: int = 0
    previous_champion: int | None = None


def _update_meta(
    root: Path, name: str, version: int, status: str | None, decision: dict[str, Any] | None
) -> None:
    """Set a version's status and append a decision to its tags (caller holds the lock)."""
    client = tracking.client(root)
    if status:
        client.set_model_version_tag(name, str(version), STATUS_TAG, status)
    if decision:
        tags = client.get_model_version(name, str(version)).tags
        decisions = [*json.loads(tags.get(DECISIONS_TAG, "[]")), decision]
        client.set_model_version_tag(name, str(version), DECISIONS_TAG, json.dumps(decisions))


def _move_alias(root: Path, name: str, version: int, history: list[dict[str, Any]]) -> None:
    """Point `champion` at ``version`` (the commit point), then record the history (lock held)."""
    client = tracking.client(root)
    client.set_registered_model_alias(name, CHAMPION, str(version))
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))


def _set_champion(root: Path, name: str, new: int, decision: dict[str, Any]) -> int | None:
    """Move the alias to `new`, pushing the old champion onto the history (lock held)."""
    state = aliases(root, name)
    old = state["champion"]
    if old is not None:
        state["history"].append({"version": old, "replaced_at": _now(), "replaced_by": new})
    _move_alias(root, name, new, state["history"])
    if old is not None:
        _update_meta(root, name, old, "retired", None)
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
        registry_root: The embedded MLflow folder (see `registry.register`).
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
    _check_name(name)
    with tracking.locked(
        registry_root, name
    ):  # the champion cannot move between the comparison and the switch
        candidate = show(registry_root, name, version)
        current = champion(registry_root, name)
        reasons = check_gates(candidate.gate_metrics, gates)
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
        registry_root: The embedded MLflow folder (see `registry.register`).
        name: Model name.
        version: The version to promote.
        gates: Gates to check; by default those recorded with the version.
        force: Promote even when gates fail (the failures are recorded).

    Returns:
        The decision; a promotion is also recorded in the version's meta.json.
    """
    _check_name(name)
    with tracking.locked(registry_root, name):
        candidate = show(registry_root, name, version)
        current = champion(registry_root, name)
        gates = candidate.meta.get("gates", {}) if gates is None else gates
        failures = check_gates(candidate.gate_metrics, gates or {})
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
    _check_name(name)
    with tracking.locked(registry_root, name):
        state = aliases(registry_root, name)
        if not state["history"]:
            raise RegistryError(f"model '{name}' has no previous champion to roll back to")
        restored = state["history"].pop()["version"]
        current = state["champion"]
        _move_alias(registry_root, name, restored, state["history"])
        record = {"at": _now(), "action": "rollback", "from": current, "to": restored}
        if current is not None:
            _update_meta(registry_root, name, current, "rolled_back", record)
        _update_meta(registry_root, name, restored, "champion", record)
    return show(registry_root, name, restored)
