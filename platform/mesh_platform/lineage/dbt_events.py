"""dbt model lineage from openlineage-dbt's artifact processor, renamed into the mesh's naming."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mesh_platform.lineage.facets import as_dict, dataset_version
from mesh_platform.lineage.naming import DatasetName, port_dataset, warehouse_namespace
from mesh_platform.lineage.sql_lineage import Schema, fill_missing_lineage, repair_cte_lineage
from mesh_platform.settings import MeshPaths

# Facets openlineage-dbt adds whose schema is not part of the OpenLineage spec: dropped, so every
# logged event validates offline (what they carry is in the manifest and the SQL facet anyway).
_NON_SPEC_FACETS = {"dbt_model", "dbt_version", "dbt_run", "dbt_node"}


def _port_sources(manifest: dict[str, Any], paths: MeshPaths) -> dict[str, DatasetName]:
    """Map each port source's dbt name (``<db>.<source>.<table>``) to the port's dataset.

    The view the source reads through (``<d>__<p>_v<major>``, see ``dbt.sources.port_view``)
    maps to it too: SQL parsers see that view, not the source, in the compiled code.
    """
    found = {}
    for source in manifest["sources"].values():
        meta = {**source.get("source_meta", {}), **source.get("meta", {})}
        if port := meta.get("mesh_port"):
            domain, product = port.split("/")
            major = int(meta.get("mesh_port_version", 1))
            name = f"{source['database']}.{source['schema']}.{source['identifier']}"
            found[name] = found[f"{domain}__{product}_v{major}"] = port_dataset(
                paths, domain, product, major
            )
    return found


def _port_of(name: str, ports: dict[str, DatasetName]) -> DatasetName | None:
    return ports.get(name) or ports.get(name.rsplit(".", 1)[-1].strip('"'))


def _rename_inputs(
    event: dict[str, Any], ports: dict[str, DatasetName], versions: Mapping[DatasetName, str]
) -> None:
    port_inputs = []
    for dataset in event.get("inputs", []):
        if target := _port_of(dataset["name"], ports):
            dataset["namespace"], dataset["name"] = target.namespace, target.name
            if target in versions:  # the snapshot this run pinned and read
                facets = dataset.setdefault("facets", {})
                facets["datasetVersion"] = dataset_version(versions[target])
            port_inputs.append(target)
    for dataset in event.get("outputs", []):
        lineage = (dataset.get("facets") or {}).get("columnLineage")
        for field in (lineage or {}).get("fields", {}).values():
            for source in field.get("inputFields", []):
                if found := _port_of(source["name"], ports):
                    target = found
                elif source["name"] == "read_parquet" and len(port_inputs) == 1:
                    # sqlglot sees the port read as a table function: it is the model's one port.
                    target = port_inputs[0]
                else:
                    continue
                source["namespace"], source["name"] = target.namespace, target.name


def _strip(event: dict[str, Any]) -> None:
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        for key in _NON_SPEC_FACETS & set(dataset.get("facets") or {}):
            del dataset["facets"][key]
    for part in (event.get("run", {}), event.get("job", {})):
        for key in _NON_SPEC_FACETS & set(part.get("facets") or {}):
            del part["facets"][key]


def _columns(schema: Schema, table: str) -> list[str]:
    """The columns of a built table in the warehouse schema (catalog -> schema -> table)."""
    for schemas in schema.values():
        for tables in schemas.values():
            if isinstance(tables, dict) and table in tables:
                return list(tables[table])
    return []


def model_of(event: dict[str, Any]) -> str | None:
    """The dbt model an event is about (its output table's name), None for test events."""
    outputs = event.get("outputs") or []
    return outputs[0]["name"].rsplit(".", 1)[-1] if outputs else None


def dbt_model_events(
    paths: MeshPaths,
    domain: str,
    project_dir: Path,
    target_path: Path,
    schema: Schema | None = None,
    versions: Mapping[DatasetName, str] | None = None,
) -> list[dict[str, Any]]:
    """START/COMPLETE/FAIL events of every model a dbt run built, with column lineage.

    Args:
        paths: the mesh paths (dataset names, the column lineage cache).
        domain: the domain (dbt profile name).
        project_dir: the dbt project.
        target_path: the run's own target folder (its manifest and run_results).
        schema: the warehouse's tables and columns, to trace columns computed in CTEs.
        versions: the snapshot id each input port was read at (``datasetVersion``).

    Returns:
        Events as dicts, ports named by their Parquet location so producers and consumers join.
    """
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor

    processor = DbtLocalArtifactProcessor(
        producer="https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/dbt",
        job_namespace=f"mesh.{domain}", project_dir=str(project_dir), profile_name=domain,
        target="local", target_path=str(target_path),
    )  # fmt: skip
    parsed = processor.parse()
    manifest = json.loads((target_path / "manifest.json").read_text())
    ports = _port_sources(manifest, paths)
    compiled = {n["name"]: n.get("compiled_code") for n in manifest["nodes"].values()}
    namespace = warehouse_namespace(paths, domain)
    events = []
    for raw in [*parsed.starts, *parsed.completes, *parsed.fails]:
        event = as_dict(raw)
        if not event["job"]["name"].endswith(".build.run"):
            continue  # dbt test executions: their verdicts are asset checks, not lineage
        _strip(event)
        model = model_of(event) or ""
        sql = compiled.get(model)
        if schema and sql:
            repair_cte_lineage(event, sql, schema, namespace, paths.column_lineage_cache)
            columns = _columns(schema, model)
            if event["eventType"] == "COMPLETE" and columns:
                fill_missing_lineage(
                    event, sql, schema, columns, namespace, paths.column_lineage_cache
                )
        # after tracing: sqlglot names a port by the view the run read it through
        _rename_inputs(event, ports, versions or {})
        events.append(event)
    return events
