"""Shared ML fixtures: an embedded MLflow store template and a small LightGBM model file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


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
