"""Input ports of an ML product: access checked as for dbt reads, snapshots recorded per run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesh_platform.access.rules import AccessDenied, Violation, port_read_problem
from mesh_platform.ports import PortRef
from mesh_platform.ports.pins import pin_inputs
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


def pinned_snapshots(paths: MeshPaths, product: ProductSpec, run_id: str) -> dict[str, str]:
    """The snapshot id of each declared input port the run reads (``domain/port`` -> id).

    In a run that built the training table with dbt, these are the snapshots its dbt step
    pinned at the start; recording them with the model version says exactly which published
    data it learnt from. A run without that step pins the current snapshots now.

    Args:
        paths: The mesh's paths.
        product: The ML product.
        run_id: The training run.

    Returns:
        Snapshot ids of the ports published so far (a port never published is left out).
    """
    refs = {
        port.product: PortRef(port.product.split("/")[0], port.product.split("/")[1], port.version)
        for port in product.input_ports
        if port.kind == "port" and port.product
    }
    pins = pin_inputs(paths.home, run_id, refs.values())
    return {name: pins[ref].snapshot_id for name, ref in refs.items() if ref in pins}
