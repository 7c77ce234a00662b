"""Lineage of an ingestion: landed files -> raw.<entity> (accepted) and quarantine.<entity>."""

from __future__ import annotations

from typing import Any

from mesh_platform.lineage import facets as F
from mesh_platform.lineage.emit import DagsterRun, attach_context, base_event, new_run_id, now
from mesh_platform.lineage.naming import (
    ingest_asset_name,
    job_name,
    job_namespace,
    landing_dataset,
    table_dataset,
)
from mesh_platform.settings import MeshPaths


def ingestion_events(
    paths: MeshPaths, run: DagsterRun, entity: str, location: str, columns: dict[str, str],
    owners: list[str], accepted: int, quarantined: int, started: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """START and COMPLETE of one ingestion asset execution, with column lineage from the files."""
    landing = landing_dataset(paths, location)
    job = (job_namespace(run.domain), job_name([run.domain, ingest_asset_name(entity)]))
    run_id = new_run_id()
    events = []
    for kind, time in (("START", started), ("COMPLETE", now())):
        event = base_event(kind, run_id, job, time)
        attach_context(event, run, "INGESTION", owners, "platform/mesh_platform/ingest/assets.py")
        event["inputs"] = [{"namespace": landing.namespace, "name": landing.name, "facets": {}}]
        if kind == "COMPLETE":
            event["outputs"] = [
                _table(paths, run.domain, "raw", entity, columns, landing, owners, accepted),
                _table(
                    paths, run.domain, "quarantine", entity, columns, landing, owners, quarantined
                ),
            ]
        events.append(event)
    return events


def _table(paths: MeshPaths, domain: str, schema: str, entity: str, columns: dict[str, str],
           landing, owners: list[str], rows: int) -> dict[str, Any]:  # fmt: skip
    table = table_dataset(paths, domain, schema, entity)
    kind = (
        "accepted rows" if schema == "raw" else "rows refused by a row-level rule, with the reason"
    )
    return {
        "namespace": table.namespace, "name": table.name,
        "facets": {
            "schema": F.schema([(c, t, None) for c, t in columns.items()]),
            "columnLineage": F.column_lineage(
                {c: [(landing.namespace, landing.name, c)] for c in columns}),
            "ownership": F.ownership(owners),
            "documentation": F.documentation(f"Landed {entity}: {kind}."),
            "tags": F.tags([("domain", domain, None), ("layer", schema, None)]),
        },
        "outputFacets": {"outputStatistics": F.output_statistics(rows)},
    }  # fmt: skip
