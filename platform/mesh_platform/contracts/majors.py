"""Output port majors and their contract files: which file covers which major, which are missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesh_platform.contracts.odcs import Contract, file_major, port_contract_name
from mesh_platform.descriptors.errors import SpecError

if TYPE_CHECKING:
    from mesh_platform.descriptors.loader import Domain
    from mesh_platform.descriptors.models import OutputPort, ProductSpec

Port = tuple["Domain", "ProductSpec", int, "OutputPort"]  # domain, product, index, port
PortKey = tuple[str, int]  # ("<domain>/<port>", major)


def port_majors(domains: dict[str, Domain]) -> dict[PortKey, Port]:
    """Every declared output port major of the mesh."""
    return {
        (f"{domain.name}/{port.name}", port.version): (domain, product, i, port)
        for domain in domains.values()
        for product in domain.products.values()
        for i, port in enumerate(product.output_ports)
    }


def newest_majors(ports: dict[PortKey, Port]) -> dict[str, int]:
    """Newest declared major per ``<domain>/<port>``: its contract is the unversioned file."""
    newest: dict[str, int] = {}
    for key, major in ports:
        newest[key] = max(newest.get(key, 0), major)
    return newest


def port_of(contract: Contract, ports: dict[PortKey, Port], newest: dict[str, int]) -> Port | str:
    """The port major a contract file covers, or why it covers none.

    ``<port>.odcs.yaml`` covers the newest major, ``<port>.v<major>.odcs.yaml`` an older one.
    """
    key, major = contract.key, file_major(contract.path)
    where = f"domains/{contract.domain}/products/*.yaml"
    if key not in newest:
        return f"no output port '{key}' declared in {where}"
    if major is None:
        return ports[key, newest[key]]
    if major == newest[key]:
        name = port_contract_name(contract.product, major)
        return f"v{major} is the newest major of '{key}': its contract file is {name}"
    if (key, major) not in ports:
        return f"no output port '{key}' v{major} declared in {where}"
    return ports[key, major]


def uncovered(
    ports: dict[PortKey, Port], newest: dict[str, int], covered: set[str]
) -> list[SpecError]:
    """An error per public port major whose contract file is missing.

    Args:
        ports: every port major of the mesh.
        newest: the newest major per port.
        covered: ``file_key`` of every contract file present, valid or not.

    Returns:
        Errors naming the product descriptor and the output port.

    """
    errors = []
    for (key, major), (domain, product, i, port) in sorted(ports.items(), key=lambda kv: kv[0]):
        expected = key if major == newest[key] else f"{key}@v{major}"
        if port.visibility == "public" and expected not in covered:
            path = domain.path / "products" / f"{product.name}.yaml"
            name = port_contract_name(port.name, major, newest[key])
            msg = f"public output port has no contract contracts/{domain.name}/{name} (v{major})"
            errors.append(SpecError(path, f"output_ports[{i}]", msg))
    return errors
