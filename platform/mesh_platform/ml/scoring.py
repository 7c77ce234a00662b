"""Score the champion on the scoring table in record batches, shaped as the predictions port."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml import inputs, sql
from mesh_platform.ml.dataset import matrix
from mesh_platform.ml.drift import DriftReport, drift_report
from mesh_platform.ml.registry import ModelVersion
from mesh_platform.ml.train import predict
from mesh_platform.warehouse import DuckDBWarehouse, connect

BATCH_ROWS = 200_000
DRIFT_SAMPLE_ROWS = 50_000


@dataclass
class Scored:
    """The predictions port's rows and a sample of the serving features they came from."""

    predictions: pa.Table
    features: pd.DataFrame
    as_of: object


def _copy_rows(warehouse: DuckDBWarehouse, spec: ModelSpec, file: Path, features, target: Path):
    """Copy the scoring rows out of the warehouse into Parquet: its lock is held only this long."""
    table = spec.scoring_table or spec.training_table
    with warehouse.reading() as con:
        field = "scoring_table" if spec.scoring_table else "training_table"
        rel = inputs.relation(con, table, file, field)
        cols = inputs.columns(con, rel)
        inputs.check_keys(spec, cols, file, table)
        inputs.require_features(cols, features, file, table)
        query = sql.scoring_rows(spec, rel, features)
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)")


def _score_batches(con: duckdb.DuckDBPyConnection, spec: ModelSpec, booster, rows: Path) -> None:
    """Predict batch by batch into the table ``scored`` (keys and ``__pred``)."""
    keys = [*spec.entity, spec.as_of]
    features = booster.feature_name()
    reader = pq.ParquetFile(rows).iter_batches(batch_size=BATCH_ROWS)
    created = False
    for batch in reader:
        out = pa.table({k: batch.column(k) for k in keys})
        batch_scores = out.append_column(
            "__pred", pa.array(predict(booster, matrix(batch, features)))
        )
        con.register("batch_scores", batch_scores)
        verb = "INSERT INTO scored" if created else "CREATE TABLE scored AS"
        con.execute(f"{verb} SELECT * FROM batch_scores")
        con.unregister("batch_scores")
        created = True
    if not created:
        raise ValueError(f"{spec.scoring_table or spec.training_table} has no rows to score")


def score(
    warehouse: DuckDBWarehouse, spec: ModelSpec, file: Path, name: str, version: ModelVersion
) -> Scored:
    """Predictions of a registered version on the rows scored now, as the port publishes them.

    Args:
        warehouse: The domain's warehouse.
        spec: The declared model.
        file: The product descriptor, named in errors.
        name: The model's name.
        version: The version scoring (the champion).

    Returns:
        The port's rows (entity, as-of, prediction, rank or band, model and time stamp) and a
        bounded, seeded sample of the serving features for the drift check.
    """
    booster = version.load_booster()
    stamp = datetime.now(UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="mesh-score-") as tmp, connect() as con:
        rows = Path(tmp) / "rows.parquet"
        _copy_rows(warehouse, spec, file, booster.feature_name(), rows)
        con.execute("SET threads = 1")  # scoring shares the machine with other steps
        _score_batches(con, spec, booster, rows)
        table = con.sql(
            sql.predictions(spec), params=[name, version.version, stamp]
        ).to_arrow_table()
        ((as_of,),) = con.execute(f'SELECT max("{spec.as_of}") FROM scored').fetchall()
        features = ", ".join(sql.q(f) for f in booster.feature_name())
        sample = con.execute(
            f"SELECT {features} FROM read_parquet('{rows}') "
            f"USING SAMPLE reservoir({DRIFT_SAMPLE_ROWS} ROWS) REPEATABLE ({int(spec.seed)})"
        ).df()
    return Scored(table, sample, as_of)


def write_parquet(table: pa.Table, folder: Path) -> None:
    """Write the predictions as one zstd Parquet file of the folder."""
    with connect() as con:
        con.register("predictions", table)
        target = folder / "part-0.parquet"
        con.execute(f"COPY predictions TO '{target}' (FORMAT parquet, COMPRESSION zstd)")


def check_drift(
    version: ModelVersion, current: pd.DataFrame, spec: ModelSpec
) -> DriftReport | None:
    """Serving features against the champion's reference profile; None without a reference."""
    profile_file = Path(version.path) / "reference_profile.json"
    if not profile_file.exists():
        return None
    profile = json.loads(profile_file.read_text())
    drift = spec.drift
    return drift_report(
        profile, current, drift.psi, drift.ks_pvalue, non_stationary=drift.non_stationary
    )
