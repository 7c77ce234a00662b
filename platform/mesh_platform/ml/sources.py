"""Feature sources for ML assets: the current snapshots of the input ports, pinned for a run."""

from __future__ import annotations

from mesh_platform.ml.features import FeatureSources
from mesh_platform.ports import PortRef, current_snapshot
from mesh_platform.settings import MeshPaths

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


def pinned_sources(paths: MeshPaths) -> tuple[FeatureSources, dict[str, str]]:
    """Sources reading each port's current snapshot by its own path, and the snapshot ids.

    Pinning the snapshot folder (not ``current``) keeps a training run on one consistent set of
    inputs even if a producer publishes meanwhile, and records exactly what was used.
    """
    relations, snapshots = {}, {}
    for field, port in PORTS.items():
        domain, product = port.split("/")
        snap = current_snapshot(paths.lake, PortRef(domain, product))
        if snap is None:
            raise PortNotPublished(f"port {port} has no published snapshot yet: run its domain")
        relations[field] = f"read_parquet('{snap.path}/*.parquet')"
        snapshots[port] = snap.snapshot_id
    return FeatureSources(**relations), snapshots
