"""What ML assets show: training metadata, the drift check's result, the port's column sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from mesh_platform.descriptors.models import ModelSpec

if TYPE_CHECKING:
    from mesh_platform.ml.drift import DriftReport
    from mesh_platform.ml.training import TrainingResult

DRIFT_CHECK = "feature_drift"


def train_metadata(result: TrainingResult) -> dict:
    """Materialisation metadata of a training: metrics beside the baseline, decision, plots."""
    table = "\n".join(
        f"| {f} | {g:.1f} |" for f, g in sorted(result.importance.items(), key=lambda kv: -kv[1])
    )
    meta = {f"metric/{k}": float(v) for k, v in result.metrics.items()}
    meta |= {f"baseline/{k}": float(v) for k, v in result.baseline.items()}
    meta |= {
        "model_version": result.version.version,
        "promoted": result.decision.promoted,
        "decision": "; ".join(result.decision.reasons) or "promoted",
        "params": dg.MetadataValue.json(result.params),
        "data_snapshots": dg.MetadataValue.json(result.version.meta.get("data_snapshots", {})),
        "evaluation_window": str(result.split.evaluate),
        "rows": dg.MetadataValue.json(result.rows),
        "feature_importance": dg.MetadataValue.md("| feature | gain |\n|---|---|\n" + table),
    }
    meta |= {f"plot/{p.stem}": dg.MetadataValue.path(str(p)) for p in result.plots}
    return meta


def drift_result(
    key: dg.AssetKey, report: DriftReport | None, model_version: int
) -> dg.AssetCheckResult:
    """Drift of serving features from the champion's evaluation-window reference, by feature.

    The check names the champion it judged: the retrain sensor acts once per champion.
    """
    if report is None:
        note = {"note": "champion has no reference profile", "model_version": model_version}
        return dg.AssetCheckResult(
            asset_key=key, check_name=DRIFT_CHECK, passed=True, metadata=note
        )
    rows = [
        f"| {f.feature}{' (non-stationary)' if f.non_stationary else ''} | {f.psi:.3f} "
        f"| {f.p_value:.4f} | {'yes' if f.drifted else ''} |"
        for f in report.features.values()
    ]
    table = "| feature | PSI | p-value | drifted |\n|---|---|---|---|\n" + "\n".join(rows)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=DRIFT_CHECK,
        passed=not report.drifted_features,
        severity=dg.AssetCheckSeverity.WARN,
        description="drifting: " + ", ".join(report.drifted_features)
        if report.drifted_features
        else "no feature drifted",
        metadata={
            "drifted_features": dg.MetadataValue.json(report.drifted_features),
            "features": dg.MetadataValue.md(table),
            "rows": report.rows,
            "model_version": model_version,
        },
    )


def port_columns(spec: ModelSpec) -> dict[str, str]:
    """Predictions port column -> its source: "model", a scoring table column, or ""."""
    columns = {**{e: e for e in spec.entity}, spec.as_of: spec.as_of, spec.output: "model"}
    if spec.kind == "ranker":
        columns["rank"] = "model"
    if spec.bands:
        columns[spec.bands.column] = "model"
    return columns | {"model_name": "", "model_version": "", "scored_at": ""}
