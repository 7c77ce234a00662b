"""Asset-level OpenLineage events of the mesh: assembled per asset execution, logged, delivered."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mesh_platform.lineage import facets as F
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import DatasetName, job_namespace, table_dataset
from mesh_platform.settings import MeshPaths

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@dataclass(frozen=True)
class DagsterRun:
    """The Dagster run the asset executions belong to (the parent of their OpenLineage runs)."""

    domain: str
    job: str
    run_id: str


@dataclass
class Publication:
    """What write-audit-publish did with one port model, for its lineage event."""

    dataset: DatasetName
    owners: list[str]
    description: str
    visibility: str
    columns: list[tuple[str, str, str | None, str | None]]  # name, type, description, class
    snapshot_id: str | None = None
    rows: int = 0
    contract: dict[str, Any] | None = None  # id, version, passed, failedRules
    assertions: list[tuple[str, bool, str | None]] = field(default_factory=list)
    domain: str = ""
    table: str = ""  # its Iceberg table, ``<domain>.<product>_v<major>``
    catalog: dict[str, str] = field(default_factory=dict)  # ports.lakehouse.describe


def lineage_enabled() -> bool:
    """False when MESH_LINEAGE=off (used to measure what lineage costs a run)."""
    return os.environ.get("MESH_LINEAGE", "on").lower() not in ("off", "0", "false")


def now() -> str:
    """Event time: UTC, ISO 8601."""
    return datetime.now(UTC).isoformat()


def new_run_id() -> str:
    """A run id for one asset execution (UUIDv7-like time-ordered ids are not required)."""
    return str(uuid.uuid4())


def base_event(
    kind: str, run_id: str, job: tuple[str, str], time: str | None = None
) -> dict[str, Any]:
    """A bare RunEvent of the given type."""
    return {
        "eventType": kind, "eventTime": time or now(), "producer": F.PRODUCER,
        "schemaURL": SCHEMA_URL, "run": {"runId": run_id, "facets": {}},
        "job": {"namespace": job[0], "name": job[1], "facets": {}}, "inputs": [], "outputs": [],
    }  # fmt: skip


def attach_context(
    event: dict[str, Any], run: DagsterRun, kind: str, owners: list[str], code: str
) -> None:
    """Parent run, job type, ownership and code location on an event."""
    event["run"]["facets"]["parent"] = F.parent(job_namespace(run.domain), run.job, run.run_id)
    event["job"]["facets"] |= {"jobType": F.job_type(kind), "ownership": F.job_ownership(owners),
                               "sourceCodeLocation": F.source_code_location(code)}  # fmt: skip


def port_output(warehouse: DatasetName, pub: Publication) -> dict[str, Any]:
    """The port dataset as an output: schema, version, owners, docs, tags, assertions, lineage."""
    domain = pub.domain
    tags: list[tuple[str, str, str | None]] = [
        ("domain", domain, None),
        ("visibility", pub.visibility, None),
    ]
    tags += [("classification", cls, name) for name, _, _, cls in pub.columns if cls]
    facets = {
        "schema": F.schema([(n, t, d) for n, t, d, _ in pub.columns]),
        "ownership": F.ownership(pub.owners), "documentation": F.documentation(pub.description),
        "tags": F.tags(tags),
        "columnLineage": F.column_lineage(
            {n: [(warehouse.namespace, warehouse.name, n)] for n, _, _, _ in pub.columns}),
    }  # fmt: skip
    if pub.snapshot_id:
        facets["datasetVersion"] = F.dataset_version(pub.snapshot_id)
    if pub.table and pub.catalog:
        facets.update(F.iceberg_table(pub.table, pub.catalog))
    if pub.assertions:
        facets["dataQualityAssertions"] = F.assertions(pub.assertions)
    out = {"namespace": pub.dataset.namespace, "name": pub.dataset.name, "facets": facets}
    if pub.snapshot_id:
        out["outputFacets"] = {"outputStatistics": F.output_statistics(pub.rows)}
    return out


def asset_events(
    paths: MeshPaths, run: DagsterRun, dbt_events: list[dict[str, Any]],
    publications: dict[str, Publication], owners: list[str], code_dir: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """Turn dbt's model events into asset events: job per asset, parent run, ports, verdicts."""
    from mesh_platform.lineage.dbt_events import model_of

    events = []
    for event in dbt_events:
        model = model_of(event)
        if model is None:
            continue
        event["job"] = {"namespace": job_namespace(run.domain), "name": f"{run.domain}.{model}",
                        "facets": event["job"].get("facets") or {}}  # fmt: skip
        attach_context(event, run, "DBT_MODEL", owners, f"{code_dir}/{model}.sql")
        pub = publications.get(model)
        if pub is not None and event["eventType"] == "COMPLETE":
            _add_port(paths, run, event, model, pub)
        events.append(event)
    return events


def _add_port(
    paths: MeshPaths, run: DagsterRun, event: dict[str, Any], model: str, pub: Publication
) -> None:
    warehouse = table_dataset(paths, run.domain, "main", model)
    event["run"]["facets"]["meshGovernance"] = F.governance(
        run.domain, model, pub.visibility, pub.contract
    )
    if pub.snapshot_id is None:  # refused by its contract: the asset's execution failed
        event["eventType"] = "FAIL"
        failed = ", ".join((pub.contract or {}).get("failedRules", [])) or "audit failed"
        event["run"]["facets"]["errorMessage"] = F.error_message(f"not published: {failed}")
        return
    event["outputs"].append(port_output(warehouse, pub))


def emit(paths: MeshPaths, events: list[dict[str, Any]]) -> None:
    """Log events locally (always) and hand them to the configured transport, if any.

    Never raises: lineage must not fail or stall a data run. Failures are logged by the caller's
    logger through the returned exception-free path; undelivered events stay spooled.
    """
    if not events:
        return
    append_events(paths.lineage, events)
    try:
        from mesh_platform.lineage.delivery import deliver
    except ImportError:  # delivery is optional: the local log is the embedded default
        return
    deliver(paths, events)
