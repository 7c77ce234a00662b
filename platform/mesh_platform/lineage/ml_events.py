"""Lineage of ML assets: training table + ports -> model version, model -> predictions port."""

from __future__ import annotations

from typing import Any

from mesh_platform.lineage import facets as F
from mesh_platform.lineage.emit import DagsterRun, attach_context, base_event, new_run_id, now
from mesh_platform.lineage.naming import FILE_NAMESPACE, DatasetName, job_namespace, port_dataset
from mesh_platform.settings import MeshPaths

ColumnRef = tuple[str, str, str]


def model_dataset(paths: MeshPaths, name: str, version: int) -> dict[str, Any]:
    """A registered model version as a dataset (its folder in the registry)."""
    return {
        "namespace": FILE_NAMESPACE,
        "name": str(paths.registry / name / "versions" / str(version)),
    }


def _port(paths: MeshPaths, port: str, snapshot: str | None) -> dict[str, Any]:
    domain, product = port.split("/")
    ds = port_dataset(paths, domain, product)
    facets = {"datasetVersion": F.dataset_version(snapshot)} if snapshot else {}
    return {"namespace": ds.namespace, "name": ds.name, "facets": facets}


def _table(table: DatasetName) -> dict[str, Any]:
    return {"namespace": table.namespace, "name": table.name, "facets": {}}


def _pair(
    run: DagsterRun,
    job: str,
    kind: str,
    owners: list[str],
    started: str,
    inputs: list[dict],
    outputs: list[dict],
) -> list[dict[str, Any]]:
    run_id = new_run_id()
    events = []
    for event_type, time in (("START", started), ("COMPLETE", now())):
        event = base_event(event_type, run_id, (job_namespace(run.domain), job), time)
        attach_context(event, run, kind, owners, "platform/mesh_platform/ml/assets.py")
        event["inputs"] = inputs
        event["outputs"] = outputs if event_type == "COMPLETE" else []
        events.append(event)
    return events


def training_events(
    paths: MeshPaths,
    run: DagsterRun,
    name: str,
    version: int,
    features: dict[str, str],
    table: DatasetName,
    snapshots: dict[str, str],
    owners: list[str],
    started: str,
    feature_columns: dict[str, list[ColumnRef]] | None = None,
) -> list[dict[str, Any]]:
    """Training read the training table (and, through it, these port snapshots); wrote a version.

    Args:
        paths: The mesh's paths.
        run: The Dagster run.
        name: The model's name.
        version: The registered version.
        features: Feature -> type (the model's schema).
        table: The training table in the domain's warehouse.
        snapshots: Declared input port -> snapshot id the training table was built from.
        owners: The product's owners.
        started: When training started.
        feature_columns: Feature -> source columns: the model's column lineage.

    Returns:
        The START and COMPLETE events.
    """
    model = model_dataset(paths, name, version)
    model["facets"] = {
        "schema": F.schema([(f, t, None) for f, t in features.items()]),
        "ownership": F.ownership(owners),
        "datasetVersion": F.dataset_version(str(version)),
    }
    if feature_columns:
        model["facets"]["columnLineage"] = F.column_lineage(feature_columns)
    inputs = [_table(table)]
    inputs += [_port(paths, port, snap) for port, snap in sorted(snapshots.items())]
    return _pair(run, f"{run.domain}.{name}", "ML_TRAINING", owners, started, inputs, [model])


def scoring_events(
    paths: MeshPaths,
    run: DagsterRun,
    name: str,
    version: int,
    port: str,
    snapshot: str,
    columns: dict[str, str],
    table: DatasetName,
    owners: list[str],
    started: str,
) -> list[dict[str, Any]]:
    """Scoring read the champion and the scoring table, and published the predictions port.

    ``columns`` maps each port column to where it comes from: ``"model"`` for what the model
    computes (prediction, rank, band), a scoring table column name for keys, ``""`` otherwise.
    """
    model = model_dataset(paths, name, version)
    out = _port(paths, port, snapshot)
    lineage: dict[str, list[ColumnRef]] = {}
    for column, source in columns.items():
        if source == "model":
            lineage[column] = [(model["namespace"], model["name"], "prediction")]
        elif source:
            lineage[column] = [(table.namespace, table.name, source)]
    out["facets"] |= {
        "schema": F.schema([(c, "", None) for c in columns]),
        "ownership": F.ownership(owners),
        "columnLineage": F.column_lineage(lineage),
    }
    sources = [model, _table(table)]
    job = f"{run.domain}.{port.split('/')[1]}"
    return _pair(run, job, "ML_SCORING", owners, started, sources, [out])
