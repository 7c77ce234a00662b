"""Ports a domain builds from its own ports: publish inputs first, never on a refused input."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mesh_platform.descriptors.models import OutputPort, ProductSpec

Ports = Mapping[str, tuple[ProductSpec, OutputPort]]  # port model -> its product and port


def same_domain_inputs(domain: str, ports: Ports, model: str) -> set[str]:
    """Port models of ``domain`` that the product of port model ``model`` declares as inputs."""
    product, _ = ports[model]
    reads = {i.product for i in product.input_ports if i.kind == "port"}
    return {
        other
        for other, (prod, port) in ports.items()
        if other != model and reads & {f"{domain}/{port.name}", f"{domain}/{prod.name}"}
    }


def inputs_first(domain: str, ports: Ports, models: list[str]) -> list[str]:
    """``models`` ordered so that each comes after the same-domain ports it reads."""
    ordered: list[str] = []
    todo = list(models)
    while todo:
        # A cycle (which crosscheck refuses) would leave nothing ready: take the rest as they are.
        ready = [m for m in todo if not same_domain_inputs(domain, ports, m) & set(todo)] or todo
        ordered += ready
        todo = [m for m in todo if m not in ready]
    return ordered


def refused_input(
    domain: str, ports: Ports, model: str, unpublished: Collection[str]
) -> str | None:
    """A same-domain input of ``model`` that this run did not publish (refused), if any."""
    refused = sorted(set(unpublished) & same_domain_inputs(domain, ports, model))
    return refused[0] if refused else None
