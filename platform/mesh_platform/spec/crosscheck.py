"""Checks that span descriptors: ports exist, are readable, dbt models exist, no domain cycles."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

from mesh_platform.spec.errors import SpecError

if TYPE_CHECKING:
    from mesh_platform.spec.loader import Domain


def _port_index(domains: dict[str, Domain]) -> dict[str, tuple[str, int]]:
    """Map 'domain/port' -> (visibility, major version) for every declared output port."""
    index: dict[str, tuple[str, int]] = {}
    for domain in domains.values():
        for product in domain.products.values():
            for port in product.output_ports:
                index[f"{domain.name}/{port.name}"] = (port.visibility, port.version)
    return index


def _check_inputs(domain: Domain, ports: dict[str, tuple[str, int]]) -> list[SpecError]:
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, inp in enumerate(product.input_ports):
            if inp.kind != "port" or not inp.product:
                continue
            where = f"input_ports[{i}].product"
            found = ports.get(inp.product)
            if found is None:
                errors.append(SpecError(path, where, f"no output port '{inp.product}' in the mesh"))
                continue
            visibility, version = found
            if visibility != "public" and inp.domain != domain.name:
                msg = f"'{inp.product}' is private to domain '{inp.domain}'"
                errors.append(SpecError(path, where, msg))
            if inp.version != version:
                msg = f"reads v{inp.version} but '{inp.product}' publishes v{version}"
                errors.append(SpecError(path, f"input_ports[{i}].version", msg))
    return errors


def _check_models(domain: Domain) -> list[SpecError]:
    models_dir = domain.dbt_dir / "models"
    known = {p.stem for p in models_dir.rglob("*.sql")} if models_dir.exists() else set()
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, port in enumerate(product.output_ports):
            if port.model not in known:
                msg = f"dbt model '{port.model}' not found under {models_dir}"
                errors.append(SpecError(path, f"output_ports[{i}].model", msg))
    return errors


def _check_source_contracts(domain: Domain) -> list[SpecError]:
    """Every landing input port needs a source contract: ingestion validates against it."""
    contracts = domain.path.parent.parent / "contracts" / domain.name / "sources"
    errors = []
    for product in domain.products.values():
        path = domain.path / "products" / f"{product.name}.yaml"
        for i, inp in enumerate(product.input_ports):
            expected = contracts / f"{inp.name}.odcs.yaml"
            if inp.kind == "landing" and not expected.exists():
                msg = f"landing port '{inp.name}' has no source contract at {expected}"
                errors.append(SpecError(path, f"input_ports[{i}].name", msg))
    return errors


def domain_dependencies(domains: dict[str, Domain]) -> dict[str, set[str]]:
    """For each domain, the other domains whose ports it reads."""
    deps: dict[str, set[str]] = {name: set() for name in domains}
    for domain in domains.values():
        for product in domain.products.values():
            for inp in product.input_ports:
                if inp.kind == "port" and inp.domain and inp.domain != domain.name:
                    deps[domain.name].add(inp.domain)
    return deps


def domain_order(domains: dict[str, Domain]) -> list[str]:
    """Domains in an order where every producer comes before its consumers.

    Raises:
        graphlib.CycleError: when domains read each other's ports in a cycle.

    """
    sorter = TopologicalSorter(domain_dependencies(domains))
    return [d for d in sorter.static_order() if d in domains]


def check_mesh(domains: dict[str, Domain]) -> list[SpecError]:
    """Every cross-descriptor error of the mesh."""
    ports = _port_index(domains)
    errors: list[SpecError] = []
    for domain in domains.values():
        errors += _check_inputs(domain, ports)
        errors += _check_models(domain)
        errors += _check_source_contracts(domain)
    try:
        domain_order(domains)
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        first = domains[exc.args[1][0]].path / "domain.yaml"
        errors.append(SpecError(first, "", f"domains read each other's ports in a cycle: {cycle}"))
    return errors
