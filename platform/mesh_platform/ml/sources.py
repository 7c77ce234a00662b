"""Feature sources for ML assets: the current snapshots of the input ports, pinned for a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesh_platform.access.rules import AccessDenied, Violation, port_read_problem
from mesh_platform.ml.features import FeatureSources
from mesh_platform.ports.snapshots import PortRef, current_snapshot
from mesh_platform.settings import MeshPaths

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain

# The ports the feature builder reads (FeatureSources field -> domain/product).
PORTS = {
    "order_lines": "sales/order_lines",
    "customers": "customers/customer_profiles",
    "interactions": "web/product_interactions",
    "products": "catalog/products",
    "promotions": "catalog/promotions",
}


class PortNotPublished(RuntimeError):
    """An input port has no current snapshot: its producer has not published yet."""


def check_access(consumer: Domain) -> None:
    """Refuse, as the dbt side does, feature reads of ports the consumer may not read.

    Raises:
        AccessDenied: a port is not public, not declared by its producer, or not an input port
            of any of the consumer's products.
    """
    refused = []
    for port in PORTS.values():
        problem = port_read_problem(consumer, port, 1)
        if problem:
            reason, fix = problem
            reader, file = "ML feature builder", "platform/mesh_platform/ml/sources.py"
            refused.append(Violation(consumer.name, reader, f"port {port} v1", reason, file, fix))
    if refused:
        raise AccessDenied(refused)


def pinned_sources(
    paths: MeshPaths, consumer: Domain | None = None
) -> tuple[FeatureSources, dict[str, str]]:
    """Sources reading each port's current snapshot by its own path, and the snapshot ids.

    Pinning the snapshot folder (not ``current``) keeps a training run on one consistent set of
    inputs even if a producer publishes meanwhile, and records exactly what was used.

    Args:
        paths: the mesh's paths.
        consumer: the domain reading; its right to read each port is checked (see
            `check_access`) before anything is read.
    """
    if consumer is not None:
        check_access(consumer)
    relations, snapshots = {}, {}
    for field, port in PORTS.items():
        domain, product = port.split("/")
        snap = current_snapshot(paths.lake, PortRef(domain, product))
        if snap is None:
            raise PortNotPublished(f"port {port} has no published snapshot yet: run its domain")
        relations[field] = f"read_parquet('{snap.path}/*.parquet')"
        snapshots[port] = snap.snapshot_id
    return FeatureSources(**relations), snapshots
