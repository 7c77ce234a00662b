"""Lineage of a declared model: the training table and port snapshots in, features traced to it."""

from __future__ import annotations

from mesh_platform.lineage.emit import DagsterRun, now
from mesh_platform.lineage.ml_events import scoring_events, training_events
from mesh_platform.lineage.naming import table_dataset
from mesh_platform.lineage.validation import validate_event
from mesh_platform.ml.feature_lineage import feature_columns
from mesh_platform.ml.metadata import port_columns
from mesh_platform.settings import MeshPaths

from tests.ml.test_framework import spec_of
from tests.openlineage_spec import require_spec


def test_training_reads_its_table_and_ports_and_traces_each_feature(tmp_path, monkeypatch):
    require_spec(monkeypatch, "OpenLineage validation of ML events")
    paths = MeshPaths(root=tmp_path, home=tmp_path / "home")
    run, table = (
        DagsterRun("d", "job", "8f4c6a2e-1b7d-4c1e-9a3f-2d5e6b7c8a90"),
        table_dataset(paths, "d", "main", "training"),
    )
    events = training_events(
        paths,
        run,
        "m",
        3,
        {"signal": "DOUBLE"},
        table,
        {"x/y": "snap-1"},
        ["team:d"],
        now(),
        feature_columns(table, ["signal"]),
    )
    complete = events[-1]
    assert [i["name"] for i in complete["inputs"]][0] == "d.main.training"
    assert complete["inputs"][1]["facets"]["datasetVersion"]["datasetVersion"] == "snap-1"
    fields = complete["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["signal"]["inputFields"][0]["name"] == "d.main.training"
    assert all(validate_event(e) == [] for e in events)


def test_scoring_traces_keys_to_the_table_and_predictions_to_the_model(tmp_path, monkeypatch):
    require_spec(monkeypatch, "OpenLineage validation of ML events")
    paths = MeshPaths(root=tmp_path, home=tmp_path / "home")
    run, table = (
        DagsterRun("d", "job", "8f4c6a2e-1b7d-4c1e-9a3f-2d5e6b7c8a90"),
        table_dataset(paths, "d", "main", "training"),
    )
    spec = spec_of("ranker")
    events = scoring_events(
        paths, run, "m", 3, "d/m_scores", "snap-2", port_columns(spec), table, ["team:d"], now()
    )
    fields = events[-1]["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["item_id"]["inputFields"][0]["field"] == "item_id"
    assert fields["score"]["inputFields"][0]["name"] == "models:/m/3"
    assert fields["rank"]["inputFields"][0]["field"] == "prediction"
    assert "scored_at" not in fields
    assert all(validate_event(e) == [] for e in events)
