"""Same seed and data give the same features, model bytes, metrics and tuned parameters."""

from __future__ import annotations

from mesh_platform.ml.evaluate import evaluate_classifier, evaluate_ranker
from mesh_platform.ml.features import CHURN_FEATURES, RANKER_FEATURES, churn_dataset
from mesh_platform.ml.train import train_classifier, train_ranker
from mesh_platform.ml.tune import tune

from tests.ml.conftest import MODEL_SEED, RANKER_PARAMS


def test_features_are_identical_on_rebuild(shop, churn):
    con, sources = shop
    again = churn_dataset(con, sources, [*churn.split.train, churn.split.evaluate])
    assert again.equals(churn.data)


def test_classifier_is_byte_identical(churn, churn_model):
    again = train_classifier(churn.train, CHURN_FEATURES, seed=MODEL_SEED)
    assert again.booster.model_to_string() == churn_model.booster.model_to_string()
    assert evaluate_classifier(again.booster, churn.evaluate) == evaluate_classifier(
        churn_model.booster, churn.evaluate
    )


def test_ranker_is_byte_identical(ranking, ranker_model):
    again = train_ranker(ranking.train, RANKER_FEATURES, RANKER_PARAMS, seed=MODEL_SEED)
    assert again.booster.model_to_string() == ranker_model.booster.model_to_string()
    assert evaluate_ranker(again.booster, ranking.evaluate) == evaluate_ranker(
        ranker_model.booster, ranking.evaluate
    )


def test_another_seed_gives_another_model(churn, churn_model):
    other = train_classifier(churn.train, CHURN_FEATURES, seed=MODEL_SEED + 1)
    assert other.booster.model_to_string() != churn_model.booster.model_to_string()


def test_tuning_is_reproducible_for_a_seed_and_trial_budget(churn):
    runs = [tune("classifier", churn.train, CHURN_FEATURES, 90, seed=3, trials=3) for _ in "ab"]
    assert runs[0].best_params == runs[1].best_params
    assert runs[0].best_value == runs[1].best_value
    assert len(runs[0].trials) == 3 and runs[0].metric == "roc_auc"
    assert 0.5 < runs[0].best_value <= 1.0
