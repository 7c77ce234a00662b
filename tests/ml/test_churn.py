"""Churn classifier: beats the majority baseline, respects time, writes its plots."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from mesh_platform.ml.evaluate import evaluate_classifier
from mesh_platform.ml.features import time_split
from mesh_platform.ml.plots import save_plots
from mesh_platform.ml.train import score_churn


def test_classifier_beats_majority_baseline(churn, churn_model):
    result = evaluate_classifier(churn_model.booster, churn.evaluate)
    model, baseline = result["model"], result["baseline"]
    print(result)
    assert model["rows"] == baseline["rows"] == len(churn.evaluate)
    # Measured (scale 0.3, generator seed 7, model seed 1, 979 customers): ROC AUC 0.934 vs
    # 0.5, F1 0.844 vs 0.0 (the majority class is "stays"), log loss 0.305 vs 0.692.
    # Generator seeds 1-3 and 42 gave AUC 0.938-0.946, F1 0.860-0.866. Asserted: about half.
    assert model["roc_auc"] >= baseline["roc_auc"] + 0.25
    assert model["f1"] >= baseline["f1"] + 0.5
    assert model["log_loss"] < baseline["log_loss"]
    assert model["accuracy"] > baseline["accuracy"]


def test_scores_are_probabilities_per_row(churn, churn_model):
    scores = score_churn(churn_model.booster, churn.evaluate)
    assert scores.shape == (len(churn.evaluate),)
    assert np.all((scores >= 0) & (scores <= 1))


def test_time_split_never_overlaps():
    dates = [date(2025, m, 1) for m in range(1, 13)]
    split = time_split(dates, 90, data_end=date(2025, 12, 15))
    assert split.evaluate == date(2025, 9, 1)  # the last date whose 90 days end in the data
    assert split.train and all(d + timedelta(days=90) <= split.evaluate for d in split.train)


def test_label_is_no_order_in_the_horizon(shop, churn):
    con, sources = shop
    row = churn.evaluate.iloc[0]
    as_of = churn.split.evaluate
    (orders,) = con.execute(
        f"SELECT count(*) FROM {sources.order_lines} WHERE customer_id = ? AND status <> "
        "'cancelled' AND order_date >= ? AND order_date < ?",
        [int(row.customer_id), as_of, as_of + timedelta(days=90)],
    ).fetchone() or (None,)
    assert row.churned == int(orders == 0)


def test_plots_are_written(tmp_path, churn, churn_model):
    scores = score_churn(churn_model.booster, churn.evaluate)
    paths = save_plots(tmp_path, churn_model.booster, churn.evaluate["churned"], scores, "churn")
    assert [p.name for p in paths] == ["churn_feature_importance.png", "churn_roc_curve.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
