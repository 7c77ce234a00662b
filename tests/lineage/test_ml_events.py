"""Training and scoring lineage name the MLflow model version, and the events stay valid."""

from __future__ import annotations

import json
import uuid

from mesh_platform.lineage.emit import DagsterRun, now
from mesh_platform.lineage.ml_events import scoring_events, training_events
from mesh_platform.lineage.naming import table_dataset
from mesh_platform.lineage.validation import validate_event
from mesh_platform.settings import mesh_paths

from tests.openlineage_spec import spec_dir


def test_events_name_the_mlflow_model_version_and_run(mesh_home, monkeypatch):
    paths = mesh_paths()
    run = DagsterRun("shop", "train_job", str(uuid.uuid4()))
    table = table_dataset(paths, "shop", "main", "basket_training")
    trained = training_events(paths, run, "basket_model", 3, {"x": "double"}, table,
                              {"shop/orders": "snap-1"}, ["team"], now(),
                              mlflow_run_id="abc123")  # fmt: skip
    model = trained[-1]["outputs"][0]
    store = f"sqlite:///{(mesh_home / 'mlflow').resolve()}/mlflow.db"
    assert (model["namespace"], model["name"]) == (store, "models:/basket_model/3")
    facet = model["facets"]["mlflowModelVersion"]
    assert (facet["modelUri"], facet["runId"], facet["trackingUri"]) == (
        "models:/basket_model/3", "abc123", store)  # fmt: skip
    assert "schema" in model["facets"]
    scored = scoring_events(paths, run, "basket_model", 3, "shop/basket_scores", "snap-2",
                            {"prediction": "model"}, table, ["team"], now())  # fmt: skip
    assert scored[-1]["inputs"][0]["name"] == "models:/basket_model/3"
    if (spec_dir() / "OpenLineage.json").is_file():  # a user's clone has no ../shared spec
        monkeypatch.setenv("OPENLINEAGE_SPEC_DIR", str(spec_dir()))
        for event in [*trained, *scored]:
            assert validate_event(json.loads(json.dumps(event))) == []
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    again = training_events(paths, run, "basket_model", 3, {}, table, {}, ["team"], now())
    assert again[-1]["outputs"][0]["namespace"] == "http://mlflow.internal:5000"
