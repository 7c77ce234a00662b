"""Lineage of ML assets: ports -> model version (training), model + ports -> predictions port."""

from __future__ import annotations

from typing import Any

from mesh_platform.lineage import facets as F
from mesh_platform.lineage.emit import DagsterRun, attach_context, base_event, new_run_id, now
from mesh_platform.lineage.naming import job_namespace, port_dataset
from mesh_platform.settings import MeshPaths, mlflow_tracking_uri

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
    """A registered model version of the mesh's MLflow (``MLFLOW_TRACKING_URI`` or embedded)."""
    return mlflow_model_dataset(mlflow_tracking_uri(paths.registry), name, version, run_id)


def _port(paths: MeshPaths, port: str, snapshot: str | None) -> dict[str, Any]:
    domain, product = port.split("/")
    ds = port_dataset(paths, domain, product)
    facets = {"datasetVersion": F.dataset_version(snapshot)} if snapshot else {}
    return {"namespace": ds.namespace, "name": ds.name, "facets": facets}


def _pair(run: DagsterRun, job: str, kind: str, owners: list[str], started: str,
          inputs: list[dict], outputs: list[dict]) -> list[dict[str, Any]]:  # fmt: skip
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
    paths: MeshPaths, run: DagsterRun, name: str, version: int, features: dict[str, str],
    snapshots: dict[str, str], owners: list[str], started: str,
    feature_columns: dict[str, tuple[tuple[str, str, str], ...]] | None = None,
    mlflow_run_id: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Training read these port snapshots and wrote this model version (features as its schema).

    ``feature_columns`` (feature -> port columns) becomes the model's column lineage, so an
    auditor can follow a port column into the features of every model trained on it.
    """
    model = model_dataset(paths, name, version, mlflow_run_id)
    model["facets"] |= {"schema": F.schema([(f, t, None) for f, t in features.items()]),
                       "ownership": F.ownership(owners),
                       "datasetVersion": F.dataset_version(str(version))}  # fmt: skip
    if feature_columns:
        mapping = {}
        for feature, sources in feature_columns.items():
            mapping[feature] = []
            for domain, product, column in sources:
                ds = port_dataset(paths, domain, product)
                mapping[feature].append((ds.namespace, ds.name, column))
        model["facets"]["columnLineage"] = F.column_lineage(mapping)
    inputs = [_port(paths, port, snap) for port, snap in sorted(snapshots.items())]
    return _pair(run, f"{run.domain}.{name}", "ML_TRAINING", owners, started, inputs, [model])


def scoring_events(
    paths: MeshPaths, run: DagsterRun, name: str, version: int, port: str, snapshot: str,
    columns: list[str], inputs: list[str], owners: list[str], started: str,
    mlflow_run_id: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Scoring read the champion and the input ports, and published the predictions port."""
    model = model_dataset(paths, name, version, mlflow_run_id)
    out = _port(paths, port, snapshot)
    out["facets"] |= {
        "schema": F.schema([(c, "", None) for c in columns]), "ownership": F.ownership(owners),
        "columnLineage": F.column_lineage(
            {c: [(model["namespace"], model["name"], "prediction")] for c in columns
             if c in ("churn_probability", "risk_band", "score", "rank")}),
    }  # fmt: skip
    sources = [model, *(_port(paths, p, None) for p in inputs)]
    job = f"{run.domain}.{port.split('/')[1]}"
    return _pair(run, job, "ML_SCORING", owners, started, sources, [out])
