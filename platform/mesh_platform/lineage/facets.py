"""OpenLineage facets the platform attaches, built with the client's generated facet classes."""

from __future__ import annotations

from typing import Any

from openlineage.client.generated import (
    catalog_dataset,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    dataset_version_dataset,
    documentation_dataset,
    documentation_job,
    job_type_job,
    output_statistics_output_dataset,
    ownership_dataset,
    ownership_job,
    parent_run,
    schema_dataset,
    source_code_location_job,
    storage_dataset,
    symlinks_dataset,
    tags_dataset,
)
from openlineage.client.generated.base import set_producer
from openlineage.client.serde import Serde

PRODUCER = "https://github.com/retail-mesh/mesh-platform/tree/0.1.0"
GOVERNANCE_SCHEMA_URL = (
    "https://github.com/retail-mesh/mesh-platform/blob/main/platform/mesh_platform/lineage/"
    "schemas/MeshGovernanceRunFacet.json#/$defs/MeshGovernanceRunFacet"
)
set_producer(PRODUCER)  # every generated facet names the platform as its producer


def as_dict(facet: Any) -> dict[str, Any]:
    """A facet (or event) object as the JSON-ready dict that is logged and sent."""
    return Serde.to_dict(facet)


def schema(columns: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """Schema facet from (name, type, description)."""
    fields = [
        schema_dataset.SchemaDatasetFacetFields(name=n, type=t, description=d)
        for n, t, d in columns
    ]
    return as_dict(schema_dataset.SchemaDatasetFacet(fields=fields))


def ownership(owners: list[str]) -> dict[str, Any]:
    """Ownership facet of a dataset: the team and e-mail owners."""
    items = [
        ownership_dataset.Owner(name=o, type="team" if o.startswith("team:") else "email")
        for o in owners
    ]
    return as_dict(ownership_dataset.OwnershipDatasetFacet(owners=items))


def job_ownership(owners: list[str]) -> dict[str, Any]:
    """Ownership facet of a job."""
    items = [
        ownership_job.Owner(name=o, type="team" if o.startswith("team:") else "email")
        for o in owners
    ]
    return as_dict(ownership_job.OwnershipJobFacet(owners=items))


def documentation(text: str) -> dict[str, Any]:
    """Documentation facet of a dataset."""
    return as_dict(documentation_dataset.DocumentationDatasetFacet(description=text))


def job_documentation(text: str) -> dict[str, Any]:
    """Documentation facet of a job."""
    return as_dict(documentation_job.DocumentationJobFacet(description=text))


def tags(pairs: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """Tags facet from (key, value, field): domain, visibility, and per-column classification."""
    items = [
        tags_dataset.TagsDatasetFacetFields(key=k, value=v, source="MESH", field=f)
        for k, v, f in pairs
    ]
    return as_dict(tags_dataset.TagsDatasetFacet(tags=items))


def column_lineage(mapping: dict[str, list[tuple[str, str, str]]]) -> dict[str, Any]:
    """Column lineage: output column -> [(namespace, dataset name, input column)]."""
    fields = {
        out: column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(namespace=ns, name=n, field=f) for ns, n, f in ins
            ]
        )
        for out, ins in mapping.items()
    }
    return as_dict(column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields))


def assertions(results: list[tuple[str, bool, str | None]]) -> dict[str, Any]:
    """Data quality assertions from contract rules: (assertion, success, column)."""
    items = [
        data_quality_assertions_dataset.Assertion(assertion=a, success=ok, column=c)
        for a, ok, c in results
    ]
    return as_dict(
        data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(assertions=items)
    )


def dataset_version(version: str) -> dict[str, Any]:
    """Dataset version facet: the published port snapshot id."""
    return as_dict(dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version))


def output_statistics(rows: int) -> dict[str, Any]:
    """Rows written."""
    return as_dict(
        output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)
    )


def job_type(kind: str) -> dict[str, Any]:
    """Job type facet: a batch Dagster asset (kind: DBT_MODEL, INGESTION, PUBLISH...)."""
    return as_dict(
        job_type_job.JobTypeJobFacet(processingType="BATCH", integration="DAGSTER", jobType=kind)
    )


def source_code_location(path: str) -> dict[str, Any]:
    """Where the job's code lives (a file of the repository)."""
    return as_dict(
        source_code_location_job.SourceCodeLocationJobFacet(type="file", url=f"file://{path}")
    )


def parent(namespace: str, job: str, run_id: str) -> dict[str, Any]:
    """Parent run facet tying an asset's run to the Dagster run it belongs to."""
    return as_dict(
        parent_run.ParentRunFacet(
            job=parent_run.Job(namespace=namespace, name=job), run=parent_run.Run(runId=run_id)
        )
    )


def governance(domain: str, product: str, visibility: str, contract: dict | None) -> dict[str, Any]:
    """The platform's own run facet with the governance verdict (schema in schemas/)."""
    facet: dict[str, Any] = {"_producer": PRODUCER, "_schemaURL": GOVERNANCE_SCHEMA_URL}
    facet |= {"domain": domain, "product": product, "visibility": visibility}
    if contract:
        facet["contract"] = contract
    return facet


def error_message(message: str) -> dict[str, Any]:
    """Why a run failed."""
    from openlineage.client.generated import error_message_run

    return as_dict(
        error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="python")
    )


GOVERNANCE_AUDIT_SCHEMA_URL = (
    "https://github.com/retail-mesh/mesh-platform/blob/main/platform/mesh_platform/lineage/"
    "schemas/MeshGovernanceAuditRunFacet.json#/$defs/MeshGovernanceAuditRunFacet"
)


def governance_audit(result: dict[str, Any], report_uri: str | None) -> dict[str, Any]:
    """The mesh-wide audit facet from ``GovernanceResult.to_dict()`` (schema in schemas/)."""
    facet: dict[str, Any] = {"_producer": PRODUCER, "_schemaURL": GOVERNANCE_AUDIT_SCHEMA_URL}
    facet |= {"exitCode": result["exit_code"], "scorecard": result["scorecard"],
              "findings": result["findings"]}  # fmt: skip
    if report_uri:
        facet["report"] = report_uri
    return facet


def iceberg_table(table: str, catalog: dict[str, str]) -> dict[str, Any]:
    """``symlinks``, ``storage`` and ``catalog`` facets of a port: the Iceberg table it is.

    Args:
        table: the table identifier, ``<domain>.<product>_v<major>``.
        catalog: the catalog's description (``ports.lakehouse.describe``: secrets masked).
    """
    ident = symlinks_dataset.Identifier(namespace=catalog["uri"], name=table, type="TABLE")
    return {
        "symlinks": as_dict(symlinks_dataset.SymlinksDatasetFacet(identifiers=[ident])),
        "storage": as_dict(
            storage_dataset.StorageDatasetFacet(storageLayer="iceberg", fileFormat="parquet")
        ),
        "catalog": as_dict(
            catalog_dataset.CatalogDatasetFacet(
                framework="iceberg", type=catalog["type"], name=catalog["name"],
                metadataUri=catalog["uri"], warehouseUri=catalog["warehouse"], source="pyiceberg",
            )
        ),
    }  # fmt: skip
