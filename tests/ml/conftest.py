"""Shared ML fixtures: one small generated shop, its datasets and models, built once a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
