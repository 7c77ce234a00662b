"""Training rows of a declared model, read once from the domain's warehouse: sampled, time-split."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from mesh_platform.descriptors.models import ModelSpec
from mesh_platform.ml import inputs, sql
from mesh_platform.ml.inputs import ModelInputError
from mesh_platform.ml.split import TimeSplit, time_split
from mesh_platform.warehouse import DuckDBWarehouse


@dataclass(frozen=True)
class Rows:
    """Rows sorted by as-of date (then query): a date range is a slice, a view without a copy."""

    x: np.ndarray  # float64 features, column-major (LightGBM reads it as is)
    label: np.ndarray
    as_of: np.ndarray  # datetime64[D]
    query: np.ndarray | None  # ranker: query id, contiguous within each as-of date
    baseline: np.ndarray | None

    def __len__(self) -> int:
        return len(self.as_of)

    def between(self, first: date, last: date) -> Rows:
        """The rows whose as-of date is in ``[first, last]``."""
        start = int(np.searchsorted(self.as_of, np.datetime64(first), side="left"))
        stop = int(np.searchsorted(self.as_of, np.datetime64(last), side="right"))
        return Rows(
            self.x[start:stop],
            self.label[start:stop],
            self.as_of[start:stop],
            None if self.query is None else self.query[start:stop],
            None if self.baseline is None else self.baseline[start:stop],
        )

    def dates(self) -> list[date]:
        """The distinct as-of dates, ascending."""
        return [d.item() for d in np.unique(self.as_of)]

    def frame(self, features: list[str]) -> pd.DataFrame:
        """The features as a DataFrame over the same memory (e.g. for a drift profile)."""
        return pd.DataFrame(self.x, columns=features, copy=False)


@dataclass(frozen=True)
class TrainingData:
    """What one training run reads: the sampled rows, their features and time split."""

    rows: Rows
    features: list[str]
    feature_types: dict[str, str]
    split: TimeSplit
    relation: str
    source_rows: int

    @property
    def train(self) -> Rows:
        """Rows of the training dates."""
        return self.rows.between(self.split.train[0], self.split.train[-1])

    @property
    def evaluate(self) -> Rows:
        """Rows of the evaluation date."""
        return self.rows.between(self.split.evaluate, self.split.evaluate)


def matrix(table: pa.Table | pa.RecordBatch, features: list[str]) -> np.ndarray:
    """Feature columns as one column-major float64 matrix, NULL as NaN (one copy per column)."""
    x = np.empty((table.num_rows, len(features)), dtype=np.float64, order="F")
    for j, name in enumerate(features):
        x[:, j] = table.column(name).to_numpy(zero_copy_only=False)
    return x


def _split(con, spec: ModelSpec, rel: str, score_rel: str, file: Path) -> tuple[TimeSplit, int]:
    """The time split, from the training table's as-of dates and the scoring as-of date."""
    (end_row,) = con.execute(f'SELECT max("{spec.as_of}")::DATE FROM {score_rel}').fetchall()
    counts = con.execute(sql.as_of_dates(spec, rel)).fetchall()
    dates, count = [r[0] for r in counts], sum(r[1] for r in counts)
    if not dates or end_row is None or end_row[0] is None:
        problem, fix = f"{rel} has no labelled rows", "check the dbt model's as-of dates and label"
        raise ModelInputError(file, "training_table", problem, fix)
    try:
        return time_split(dates, spec.horizon_days, end_row[0]), count
    except ValueError as exc:
        fix = (
            f"let the dbt model emit as-of dates at least {spec.horizon_days} days before "
            f"{end_row[0]} (several of them), or shorten horizon_days"
        )
        raise ModelInputError(file, "horizon_days", f"empty evaluation window: {exc}", fix) from exc


def _check_labels(spec: ModelSpec, label: np.ndarray, file: Path) -> None:
    """A classifier's labels are 0/1, a ranker's graded relevance 0..30 (LightGBM's gains)."""
    if spec.kind == "classifier" and not np.isin(label, (0, 1)).all():
        found = sorted({float(v) for v in np.unique(label)} - {0.0, 1.0})[:5]
        problem = f"a classifier's label is 0 or 1; '{spec.label}' also holds {found}"
        raise ModelInputError(file, "label", problem, "make the dbt model emit 0/1 labels")
    if spec.kind == "ranker" and len(label) and (label.min() < 0 or label.max() > 30):
        problem = f"a ranker's label is a graded relevance 0..30, '{spec.label}' is not"
        raise ModelInputError(file, "label", problem, "cap or rescale it in the dbt model")


def load_training(warehouse: DuckDBWarehouse, spec: ModelSpec, file: Path) -> TrainingData:
    """Read the training rows of a model once: checked, capped, sorted by as-of date.

    The warehouse is opened read-only only while DuckDB runs the query (out of core: filter,
    sample whole entities or groups by a seeded hash up to ``max_training_rows``, drop ranker
    groups without a relevant item); the result comes back as Arrow and becomes numpy arrays.

    Args:
        warehouse: The domain's warehouse.
        spec: The declared model.
        file: The product descriptor, named in errors.

    Returns:
        The rows, features and split.

    Raises:
        ModelInputError: The tables do not fit the declaration, or no evaluation window fits.
    """
    with warehouse.reading() as con:
        rel = inputs.relation(con, spec.training_table, file, "training_table")
        cols = inputs.columns(con, rel)
        features = inputs.check_table(spec, cols, file, spec.training_table, labelled=True)
        score_rel = rel
        if spec.scoring_table:
            score_rel = inputs.relation(con, spec.scoring_table, file, "scoring_table")
        split, count = _split(con, spec, rel, score_rel, file)
        table = con.sql(sql.training_rows(spec, rel, features, split)).to_arrow_table()
    query = table.column("__query").to_numpy() if spec.kind == "ranker" else None
    baseline = table.column("__baseline").to_numpy(zero_copy_only=False) if spec.baseline else None
    rows = Rows(
        matrix(table, features),
        table.column("__label").to_numpy(zero_copy_only=False),
        table.column("__as_of").to_numpy(zero_copy_only=False).astype("datetime64[D]"),
        query,
        baseline,
    )
    _check_labels(spec, rows.label, file)
    types = {f: cols[f] for f in features}
    return TrainingData(rows, features, types, split, rel, count)
