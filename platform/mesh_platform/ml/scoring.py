"""Score with the champion and publish predictions as a contracted port (write-audit-publish)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml import features as F
from mesh_platform.ml.drift import DriftReport, drift_report
from mesh_platform.ml.registry import ModelVersion
from mesh_platform.ml.train import score_churn, top_k


@dataclass
class Scored:
    """A batch of predictions and the serving-time features they came from."""

    predictions: pd.DataFrame
    features: pd.DataFrame
    as_of: object


def load_booster(version: ModelVersion) -> lgb.Booster:
    """The LightGBM model of a registered version."""
    return lgb.Booster(model_file=str(Path(version.path) / "model.txt"))


def serving_features(con: duckdb.DuckDBPyConnection, sources: F.FeatureSources, spec: ModelSpec):
    """Features as of the last day with data: what the champion scores now."""
    as_of = F.data_end(con, sources)
    if spec.kind == "classifier":
        return F.churn_dataset(con, sources, [as_of], spec.horizon_days), as_of
    return F.ranker_dataset(con, sources, [as_of], spec.horizon_days), as_of


def _bands(p: np.ndarray) -> np.ndarray:
    return np.where(p < 0.3, "low", np.where(p < 0.6, "medium", "high"))


def score(
    con, sources: F.FeatureSources, spec: ModelSpec, name: str, version: ModelVersion
) -> Scored:
    """Predictions of the champion on today's features, shaped as the port's contract says."""
    df, as_of = serving_features(con, sources, spec)
    booster, stamp = load_booster(version), pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    if spec.kind == "classifier":
        proba = score_churn(booster, df)
        out = pd.DataFrame({"customer_id": df["customer_id"].astype("int64"),
                            "as_of_date": pd.to_datetime(df["as_of_date"].to_numpy()).date,
                            "churn_probability": proba.astype("float64"),
                            "risk_band": _bands(proba)})  # fmt: skip
    else:
        top = top_k(booster, df, k=spec.top_k)
        out = pd.DataFrame(top[["customer_id", "rank", "product_id", "score", "as_of_date"]])
        out = out.astype({"customer_id": "int64", "rank": "int64", "product_id": "int64",
                          "score": "float64"})  # fmt: skip
        out["as_of_date"] = pd.to_datetime(out["as_of_date"].to_numpy()).date
    out["model_name"], out["model_version"], out["scored_at"] = name, version.version, stamp
    return Scored(out, df, as_of)


def write_parquet(df: pd.DataFrame, folder: Path) -> None:
    """Write predictions with the contract's physical types (DuckDB does the casting)."""
    with duckdb.connect() as con:
        con.register("predictions", df)
        con.execute(
            f"COPY (SELECT * REPLACE (CAST(scored_at AS TIMESTAMP) AS scored_at, "
            f"CAST(as_of_date AS DATE) AS as_of_date) FROM predictions) "
            f"TO '{folder / 'part-0.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
        )


def check_drift(
    version: ModelVersion, current: pd.DataFrame, spec: ModelSpec
) -> DriftReport | None:
    """Serving features against the champion's training reference; None without a reference."""
    import json

    profile_file = Path(version.path) / "reference_profile.json"
    if not profile_file.exists():
        return None
    profile = json.loads(profile_file.read_text())
    return drift_report(profile, current, spec.drift.psi, spec.drift.ks_pvalue)
