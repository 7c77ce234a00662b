"""Output ports: the domains' only door, as Iceberg tables published write-audit-publish."""

from mesh_platform.ports.refs import AuditFailed, PortRef, Snapshot, retired
from mesh_platform.ports.store_errors import WarehouseUnavailable
from mesh_platform.ports.tables import current_snapshot, list_ports, publish, snapshot_files

__all__ = [
    "AuditFailed",
    "PortRef",
    "Snapshot",
    "WarehouseUnavailable",
    "current_snapshot",
    "list_ports",
    "publish",
    "retired",
    "snapshot_files",
]
