"""Input ports of an ML product: access checked as for dbt reads, snapshots recorded per run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesh_platform.access.rules import AccessDenied, Violation, port_read_problem
from mesh_platform.ports.snapshots import PortRef, current_snapshot
from mesh_platform.settings import MeshPaths

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.descriptors.models import ProductSpec


def check_access(consumer: Domain, product: ProductSpec) -> None:
    """Refuse, as the dbt side does, a model whose declared input ports the domain may not read.

    Args:
        consumer: The domain of the ML product.
        product: The ML product; its ``input_ports`` of kind ``port`` are checked.

    Raises:
        AccessDenied: A port is not public, not declared by its producer, or not an input port
            of any of the consumer's products.
    """
    refused = []
    file = f"domains/{consumer.name}/products/{product.name}.yaml"
    for port in product.input_ports:
        if port.kind != "port" or not port.product:
            continue
        problem = port_read_problem(consumer, port.product, port.version)
        if problem:
            reason, fix = problem
            target = f"port {port.product} v{port.version}"
            refused.append(Violation(consumer.name, "ML training", target, reason, file, fix))
    if refused:
        raise AccessDenied(refused)


def pinned_snapshots(paths: MeshPaths, product: ProductSpec) -> dict[str, str]:
    """The current snapshot id of each declared input port (``domain/port`` -> id).

    The training table was built by dbt from these snapshots in the same run; recording them
    with the model version says exactly which published data it learnt from.

    Args:
        paths: The mesh's paths.
        product: The ML product.

    Returns:
        Snapshot ids of the ports published so far (a port never published is left out).
    """
    found = {}
    for port in product.input_ports:
        if port.kind != "port" or not port.product:
            continue
        domain, name = port.product.split("/")
        snap = current_snapshot(paths.lake, PortRef(domain, name, port.version))
        if snap is not None:
            found[port.product] = snap.snapshot_id
    return found
