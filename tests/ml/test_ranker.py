"""Product ranker: beats the popularity baseline; candidates, labels and top-k are well formed."""

from __future__ import annotations

from mesh_platform.ml.evaluate import evaluate_ranker
from mesh_platform.ml.features import MAX_RELEVANCE, RANKER_FEATURES
from mesh_platform.ml.train import top_k


def test_ranker_beats_popularity_baseline(ranking, ranker_model):
    result = evaluate_ranker(ranker_model.booster, ranking.evaluate)
    model, baseline = result["model"], result["baseline"]
    print(result)
    assert model["groups"] == baseline["groups"] > 100
    # Measured (scale 0.3, generator seed 7, model seed 1, 315 customers who bought a
    # candidate): NDCG@10 0.280 vs 0.161, precision@10 0.101 vs 0.059, recall@10 0.417 vs
    # 0.241. Generator seeds 1-3 and 42 (4 months, 100 rounds) gave NDCG@10 +0.13..+0.17.
    # Asserted: about half the smallest measured gain.
    assert model["ndcg@10"] >= baseline["ndcg@10"] + 0.06
    assert model["precision@10"] > baseline["precision@10"]
    assert model["recall@10"] > baseline["recall@10"]


def test_candidates_and_labels_are_well_formed(ranking):
    data = ranking.data
    assert not data.duplicated(["group_id", "product_id"]).any()
    assert data["relevance"].between(0, MAX_RELEVANCE).all()
    assert data[RANKER_FEATURES].notna().all().drop("category_recency_days").all()
    # Each group is one (customer, as-of) pair and its rows are contiguous.
    keys = data.groupby("group_id")[["customer_id", "as_of_date"]].nunique()
    assert (keys == 1).all().all()
    assert data["group_id"].is_monotonic_increasing


def test_top_k_returns_ten_best_per_customer(ranking, ranker_model):
    recs = top_k(ranker_model.booster, ranking.evaluate, k=10)
    per_customer = recs.groupby("customer_id")
    assert per_customer.size().max() == 10
    assert recs["customer_id"].nunique() == ranking.evaluate["customer_id"].nunique()
    assert (per_customer["rank"].min() == 1).all()
    assert per_customer["score"].apply(lambda s: s.is_monotonic_decreasing).all()
