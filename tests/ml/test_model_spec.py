"""The model declaration: kinds, keys and bands are checked with messages that say the fix."""

from __future__ import annotations

import json
import textwrap

import pytest
from mesh_platform.descriptors.models import ModelSpec
from pydantic import ValidationError

RANKER = {
    "kind": "ranker",
    "training_table": "t",
    "entity": ["member_id", "item_id"],
    "label": "y",
    "horizon_days": 30,
    "gates": {"ndcg@10": ">= 0.1"},
    "primary_metric": "ndcg@10",
}


def errors(**data) -> dict[str, str]:
    """Field location -> message of a declaration's validation errors."""
    with pytest.raises(ValidationError) as caught:
        ModelSpec.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def test_a_ranker_needs_its_group_and_baseline():
    found = errors(**RANKER)
    assert "a ranker needs 'group'" in found["group"]
    assert "a ranker needs 'baseline'" in found["baseline"]
    ok = ModelSpec.model_validate({**RANKER, "group": "member_id", "baseline": "popularity"})
    assert ok.group == ["member_id"] and ok.output == "score" and ok.as_of == "as_of_date"


def test_a_ranker_group_is_part_of_its_entity_with_an_item():
    found = errors(**{**RANKER, "entity": "member_id", "group": "member_id", "baseline": "p"})
    assert "entity is its group plus the item" in found["group"]


def test_only_a_ranker_has_a_group():
    found = errors(
        **{
            **RANKER,
            "kind": "regressor",
            "group": "member_id",
            "gates": {"rmse": "<= 1"},
            "primary_metric": "rmse",
        }
    )
    assert "only a ranker has a 'group'" in found["group"]


def test_bands_are_sorted_with_one_label_per_band():
    base = {**RANKER, "kind": "classifier", "gates": {"f1": ">= 0.1"}, "primary_metric": "f1"}
    found = errors(**base, bands={"column": "b", "edges": [0.6, 0.3], "labels": ["a", "b", "c"]})
    assert "strictly ascending" in found["bands.edges"]
    found = errors(**base, bands={"column": "b", "edges": [0.3, 0.6], "labels": ["a", "b"]})
    assert "give 3 labels" in found["bands.labels"]
    spec = ModelSpec.model_validate(base)
    assert spec.output == "prediction" and spec.keys == ["as_of_date", "member_id", "item_id"]


def test_the_label_is_not_a_key_and_old_fields_are_gone():
    assert (
        "label 'member_id'"
        in errors(**{**RANKER, "label": "member_id", "group": "member_id", "baseline": "p"})[""]
    )
    found = errors(**{**RANKER, "group": "member_id", "baseline": "p", "target": "y"})
    assert "target" in found


def test_validate_names_a_training_table_that_is_no_dbt_model_of_the_domain(tmp_path):
    from mesh_platform.descriptors.crosscheck import check_mesh
    from mesh_platform.descriptors.loader import load_domain

    from tests.ml.test_mesh_up_model import FILES

    for rel, text in FILES.items():
        path = tmp_path / rel.replace("units_training.sql", "other.sql")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    domain = load_domain(tmp_path / "domains" / "forecast")
    found = [e for e in check_mesh({"forecast": domain}) if e.field.startswith("model.")]
    assert [e.field for e in found] == ["model.training_table"]
    assert "dbt model 'units_training' not found" in found[0].message


def test_validate_names_declared_columns_the_dbt_yml_does_not_document(tmp_path):
    from mesh_platform.descriptors.crosscheck import check_mesh
    from mesh_platform.descriptors.loader import load_domain

    from tests.ml.test_mesh_up_model import FILES

    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip())
    columns = ["customer_id", "as_of_date", "units_28d", "units_90d", "recency_days"]
    yml = {
        "version": 2,
        "models": [{"name": "units_training", "columns": [{"name": c} for c in columns]}],
    }
    (tmp_path / "domains/forecast/dbt/models/units_training.yml").write_text(json.dumps(yml))
    domain = load_domain(tmp_path / "domains" / "forecast")
    found = [e for e in check_mesh({"forecast": domain}) if e.field.startswith("model.")]
    assert [e.field for e in found] == ["model.label"]
    assert "units_next_28d not documented for 'units_training'" in found[0].message


def test_a_model_cannot_set_what_the_platform_pins():
    found = errors(
        kind="regressor", training_table="t", entity="e", label="y", horizon_days=1,
        gates={"mae": "< baseline"}, primary_metric="mae", params={"num_threads": 4, "seed": 1},
    )  # fmt: skip
    assert found == {
        "params": "Value error, num_threads, seed: set by the platform, not by a model"
    }


def test_a_retrain_schedule_is_a_cron_expression():
    assert ModelSpec.model_validate(
        {**RANKER, "group": ["member_id"], "baseline": "pop", "retrain_schedule": "0 3 * * 1"}
    ).retrain_schedule
    found = errors(**RANKER, group=["member_id"], baseline="pop", retrain_schedule="weekly")
    assert "retrain_schedule" in found
    found = errors(**RANKER, group=["member_id"], baseline="pop", retrain_schedule="99 * * * *")
    assert "not a valid cron expression" in found["retrain_schedule"]
