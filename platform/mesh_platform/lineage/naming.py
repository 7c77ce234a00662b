"""OpenLineage names of the mesh's datasets and jobs, shared by producers and consumers.

Datasets follow the OpenLineage naming conventions, so the two sides of a port are one dataset:
  output port      its Iceberg table's location, as OpenLineage names Iceberg tables:
                   ``file`` : ``<MESH_HOME>/lake/<d>/<p>/v<major>`` (embedded warehouse), or
                   ``s3://<bucket>`` : ``<prefix>/<d>/<p>/v<major>`` (an S3 warehouse)
  landing files    ``file`` : ``<MESH_HOME>/landing/<glob>``
  warehouse table  ``duckdb://<MESH_HOME>/warehouse/<d>.duckdb`` : ``<d>.<schema>.<table>``
Jobs live in the namespace ``mesh.<domain>`` and are named after the asset (``<d>.<name>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesh_platform.ports.lakehouse import warehouse
from mesh_platform.settings import MeshPaths

FILE_NAMESPACE = "file"
PORT_TAIL = re.compile(r"([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)/v(\d+)$")


@dataclass(frozen=True, order=True)
class DatasetName:
    """An OpenLineage dataset identity."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"


def port_root(paths: MeshPaths) -> DatasetName:
    """Namespace and name prefix (with a trailing ``/``) of every port's dataset: the warehouse."""
    location = warehouse(paths.home)
    if location.startswith("file://"):
        return DatasetName(FILE_NAMESPACE, location.removeprefix("file://") + "/")
    scheme, _, rest = location.partition("://")
    bucket, _, prefix = rest.partition("/")
    return DatasetName(f"{scheme}://{bucket}", f"{prefix}/" if prefix else "")


def port_dataset(paths: MeshPaths, domain: str, product: str, version: int = 1) -> DatasetName:
    """The dataset of an output port: its table's location, the same for producer and consumer."""
    root = port_root(paths)
    return DatasetName(root.namespace, f"{root.name}{domain}/{product}/v{version}")


def port_of(paths: MeshPaths, namespace: str, name: str) -> tuple[str, str, int] | None:
    """``(domain, product, major)`` when a dataset is a port's table, else None."""
    root = port_root(paths)
    if namespace != root.namespace or not name.startswith(root.name):
        return None
    found = PORT_TAIL.fullmatch(name.removeprefix(root.name))
    return (found.group(1), found.group(2), int(found.group(3))) if found else None


def landing_dataset(paths: MeshPaths, location: str) -> DatasetName:
    """The dataset of a landing input port: the glob of files its source system delivers."""
    return DatasetName(FILE_NAMESPACE, str(paths.landing / location))


def warehouse_namespace(paths: MeshPaths, domain: str) -> str:
    """Namespace of a domain's private DuckDB warehouse."""
    return f"duckdb://{paths.warehouse_file(domain)}"


def table_dataset(paths: MeshPaths, domain: str, schema: str, table: str) -> DatasetName:
    """A table in a domain's private warehouse (``raw``, ``quarantine``, ``main`` schemas)."""
    return DatasetName(warehouse_namespace(paths, domain), f"{domain}.{schema}.{table}")


def job_namespace(domain: str) -> str:
    """Namespace of a domain's jobs."""
    return f"mesh.{domain}"


def ingest_asset_name(entity: str) -> str:
    """Name of the asset that ingests a landing feed into ``raw.<entity>``: ``raw_<entity>``.

    A feed already named ``raw_...`` keeps its name: the prefix says "ingested", once.
    """
    return entity if entity.startswith("raw_") else f"raw_{entity}"


def job_name(asset_path: list[str]) -> str:
    """Job name of an asset's execution: its key joined with dots (``billing.invoices``)."""
    return ".".join(asset_path)


def resolve_alias(paths: MeshPaths, text: str) -> DatasetName:
    """Accept ``<domain>/<product>[@v<major>]``, ``namespace:name`` or a bare path/name.

    Lets auditors type ``billing/invoices`` instead of the port's full dataset name.
    """
    if "/" in text and ":" not in text and not text.startswith("/"):
        ref, _, major = text.partition("@v")
        domain, product = ref.split("/", 1)
        return port_dataset(paths, domain, product, int(major or 1))
    if text.startswith(("file:", "duckdb://")):
        namespace, _, name = (
            text.rpartition(":") if text.startswith("duckdb://") else text.partition(":")
        )
        return DatasetName(namespace, name)
    return DatasetName(FILE_NAMESPACE, text)
