"""The benchmark's plain script computes NDCG@k as the platform does (same ties, same groups)."""

import importlib.util
from pathlib import Path

import numpy as np
from mesh_platform.ml.evaluate import ranking_metrics

PLAIN = Path(__file__).resolve().parents[2] / "bench" / "plain_ml.py"


def _plain():
    spec = importlib.util.spec_from_file_location("plain_ml", PLAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plain_ndcg_matches_the_platform():
    rng = np.random.default_rng(3)
    query = np.repeat(np.arange(200), rng.integers(1, 30, 200))
    label = rng.integers(0, 4, len(query)) * (rng.random(len(query)) < 0.2)
    score = np.round(rng.random(len(query)), 1)  # ties: both keep row order
    expected = ranking_metrics(query, label, score, 10)["ndcg@10"]
    assert abs(_plain().ndcg(query, label.astype(float), score, 10) - expected) < 1e-12
