"""Shared ML fixtures: one small generated shop, its datasets and models, built once a session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from mesh_demo.generate import generate
from mesh_platform.ml.features import (
    CHURN_FEATURES,
    RANKER_FEATURES,
    FeatureSources,
    TimeSplit,
    churn_dataset,
    data_end,
    landing_sources,
    ranker_dataset,
    rows_at,
    time_split,
)
from mesh_platform.ml.train import TrainedModel, train_classifier, train_ranker

SCALE = 0.3  # ~1,500 customers, ~30k order lines: big enough for a stable signal, fast
GENERATOR_SEED = 7
MODEL_SEED = 1
# Monthly snapshots across the generated window (Nov 2024 - Oct 2026).
AS_OF_DATES = [date(2025, m, 1) for m in range(5, 13)] + [date(2026, m, 1) for m in range(1, 11)]
RANKER_TRAIN_SNAPSHOTS = 3  # the ranker's candidate sets are large; recent months suffice
RANKER_PER_CATEGORY = 20
RANKER_PARAMS = {"num_boost_round": 60}  # keeps the folder's runtime well under a minute


@dataclass
class Task:
    """A dataset with its time split and the train/evaluation rows."""

    data: pd.DataFrame
    split: TimeSplit
    train: pd.DataFrame
    evaluate: pd.DataFrame


@pytest.fixture(scope="session")
def shop(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, FeatureSources]:
    landing = tmp_path_factory.mktemp("ml_landing")
    generate(landing, scale=SCALE, seed=GENERATOR_SEED)
    con = duckdb.connect()
    return con, landing_sources(con, landing)


@pytest.fixture(scope="session")
def churn(shop) -> Task:
    con, sources = shop
    split = time_split(AS_OF_DATES, 90, data_end(con, sources))
    data = churn_dataset(con, sources, [*split.train, split.evaluate], horizon_days=90)
    return Task(data, split, rows_at(data, split.train), rows_at(data, split.evaluate))


@pytest.fixture(scope="session")
def ranking(shop) -> Task:
    con, sources = shop
    full = time_split(AS_OF_DATES, 30, data_end(con, sources))
    split = TimeSplit(full.train[-RANKER_TRAIN_SNAPSHOTS:], full.evaluate)
    data = ranker_dataset(
        con, sources, [*split.train, split.evaluate], 30, per_category=RANKER_PER_CATEGORY
    )
    return Task(data, split, rows_at(data, split.train), rows_at(data, split.evaluate))


@pytest.fixture(scope="session")
def churn_model(churn) -> TrainedModel:
    return train_classifier(churn.train, CHURN_FEATURES, seed=MODEL_SEED)


@pytest.fixture(scope="session")
def ranker_model(ranking) -> TrainedModel:
    return train_ranker(ranking.train, RANKER_FEATURES, RANKER_PARAMS, seed=MODEL_SEED)


def shift_after(con, sources: FeatureSources, as_of: date) -> FeatureSources:
    """Views where every order and interaction from ``as_of`` on moves 40 days later."""
    cut = f"DATE '{as_of.isoformat()}'"
    con.execute(f"""
      CREATE OR REPLACE VIEW shifted_lines AS
      SELECT * FROM {sources.order_lines} WHERE order_date < {cut} UNION ALL
      SELECT * REPLACE (order_date + 40 AS order_date, quantity * 2 AS quantity)
      FROM {sources.order_lines} WHERE order_date >= {cut};
      CREATE OR REPLACE VIEW shifted_interactions AS
      SELECT * FROM {sources.interactions} WHERE event_date < {cut} UNION ALL
      SELECT * REPLACE (event_date + 40 AS event_date, views * 3 AS views)
      FROM {sources.interactions} WHERE event_date >= {cut};
    """)
    return FeatureSources(
        "shifted_lines",
        sources.customers,
        "shifted_interactions",
        sources.products,
        sources.promotions,
    )


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An embedded MLflow store created once: creating its SQLite schema takes seconds."""
    from mesh_platform.ml import tracking

    root = tmp_path_factory.mktemp("mlflow_template")
    tracking.client(root)
    return root / tracking.DB_FILE


@pytest.fixture
def fresh_registry(empty_store) -> Callable[[Path], Path]:
    """Make ``root`` an empty embedded MLflow store (a copy of the template)."""

    def make(root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(empty_store, root / empty_store.name)
        return root

    return make


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Path:
    """A small LightGBM text model."""
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    params = {"objective": "binary", "num_threads": 1, "verbose": -1, "seed": 0}
    path = tmp_path_factory.mktemp("models") / "model.txt"
    lgb.train(params, lgb.Dataset(x, y), num_boost_round=5).save_model(str(path))
    return path
