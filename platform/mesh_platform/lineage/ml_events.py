"""Lineage of ML assets: training table + ports -> model version, model -> predictions port."""

from __future__ import annotations

from typing import Any

from mesh_platform.access.redact import masked_uri
from mesh_platform.lineage import facets as F
from mesh_platform.lineage.emit import DagsterRun, attach_context, base_event, new_run_id, now
from mesh_platform.lineage.naming import DatasetName, job_namespace, port_dataset
from mesh_platform.settings import MeshPaths, mlflow_tracking_uri

ColumnRef = tuple[str, str, str]


MLFLOW_FACET_SCHEMA_URL = (
    "https://github.com/retail-mesh/mesh-platform/blob/main/platform/mesh_platform/lineage/"
    "schemas/MlflowModelVersionDatasetFacet.json#/$defs/MlflowModelVersionDatasetFacet"
)


def mlflow_model_dataset(
    tracking_uri: str, name: str, version: int, run_id: str | None = None
) -> dict[str, Any]:
    """An MLflow registered model version as a dataset: namespace the store, name its URI.

    Its ``mlflowModelVersion`` facet names ``models:/<name>/<version>``, the store and, when
    known, the MLflow run that trained it.
    """
    uri = f"models:/{name}/{version}"
    facet = {"_producer": F.PRODUCER, "_schemaURL": MLFLOW_FACET_SCHEMA_URL, "modelUri": uri,
             "name": name, "version": str(version), "trackingUri": tracking_uri}  # fmt: skip
    if run_id:
        facet["runId"] = run_id
    return {"namespace": tracking_uri, "name": uri, "facets": {"mlflowModelVersion": facet}}


def model_dataset(
    paths: MeshPaths, name: str, version: int, run_id: str | None = None
) -> dict[str, Any]:
    """A registered model version of the mesh's MLflow (``MLFLOW_TRACKING_URI`` or embedded).

    The store is named by its URI with any password masked: a PostgreSQL tracking store's
    ``user:password@host`` would otherwise travel in every model's namespace and facet.
    """
    store = masked_uri(mlflow_tracking_uri(paths.registry))
    return mlflow_model_dataset(store, name, version, run_id)


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
    mlflow_run_id: str | None = None,
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
        mlflow_run_id: The MLflow run that trained the version (its facet names it).

    Returns:
        The START and COMPLETE events.
    """
    model = model_dataset(paths, name, version, mlflow_run_id)
    model["facets"] |= {
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
    mlflow_run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Scoring read the champion and the scoring table, and published the predictions port.

    ``columns`` maps each port column to where it comes from: ``"model"`` for what the model
    computes (prediction, rank, band), a scoring table column name for keys, ``""`` otherwise.
    """
    model = model_dataset(paths, name, version, mlflow_run_id)
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
