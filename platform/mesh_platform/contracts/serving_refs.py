"""`mesh validate` of ``serving:`` blocks.

The named ports are declared, their contracts list the named columns, and the event landing
folder is one a landing input reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatch
from pathlib import Path

from mesh_platform.contracts.odcs import Contract
from mesh_platform.descriptors.errors import SpecError
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import OutputPort, ProductSpec
from mesh_platform.descriptors.serving import ServingSpec

Ports = dict[str, dict[int, tuple[str, OutputPort]]]  # domain/port -> major -> (domain, port)


def port_majors(domains: Mapping[str, Domain]) -> Ports:
    """Every declared output port: ``domain/port`` -> major -> (owning domain, port)."""
    out: Ports = {}
    for domain in domains.values():
        for product in domain.products.values():
            for port in product.output_ports:
                out.setdefault(f"{domain.name}/{port.name}", {})[port.version] = (domain.name, port)
    return out


def contract_for(contracts: Mapping[str, Contract], key: str, major: int) -> Contract | None:
    """The contract of major ``major`` of port ``key`` (``domain/port``), if there is one."""
    older = contracts.get(f"{key}@v{major}")
    if older is not None:
        return older
    newest = contracts.get(key)
    return newest if newest is not None and newest.port_version == major else None


def _refs(domain: str, product: ProductSpec, spec: ServingSpec) -> Iterator[tuple]:
    """(field, domain/port, major or None, {column field: column}) of every port the block names."""
    p = spec.predictions
    cols = {"entity": p.entity, "item": p.item, "rank": p.rank, "score": p.score, "as_of": p.as_of}
    yield "predictions", f"{domain}/{p.port}", None, cols
    if spec.catalogue:
        c = spec.catalogue
        yield "catalogue", c.port, c.version, {"key": c.key, "group": c.group}
    if spec.popularity:
        q = spec.popularity
        cols = {"item": q.item, "time": q.time, **({"weight": q.weight} if q.weight else {})}
        cols |= {f"exclude.{k}": k for k in q.exclude}
        yield "popularity", q.port, q.version, cols


def _port_problem(
    field: str, key: str, major: int | None, owner: tuple[str, ProductSpec], ports: Ports
) -> tuple[str, str] | None:
    domain, product = owner
    majors = ports.get(key, {})
    if field == "predictions":
        own = {p.name for p in product.output_ports}
        if key.split("/")[1] not in own:
            return "port", f"'{key.split('/')[1]}' is not an output port of {product.name}"
        return None
    if not majors:
        return "port", f"no output port '{key}' in the mesh"
    if major is not None and major not in majors:
        return "version", f"'{key}' publishes no v{major}"
    _, port = majors[major or max(majors)]
    if port.visibility != "public" and key.split("/")[0] != domain:
        return "port", f"'{key}' is private to domain '{key.split('/')[0]}'"
    return None


def _product_problems(
    path: Path, owner: tuple[str, ProductSpec], ports: Ports, contracts: Mapping[str, Contract]
) -> list[SpecError]:
    spec = owner[1].serving
    assert spec is not None
    errors = []
    for field, key, major, columns in _refs(owner[0], owner[1], spec):
        problem = _port_problem(field, key, major, owner, ports)
        if problem:
            errors.append(SpecError(path, f"serving.{field}.{problem[0]}", problem[1]))
            continue
        majors = ports.get(key, {})
        contract = contract_for(contracts, key, major or max(majors)) if majors else None
        if contract is None:
            continue  # no contract: the columns are not knowable before a run
        known = {c.name for c in contract.columns}
        for name, column in columns.items():
            if column not in known:
                msg = f"'{column}' is not a column of {key} (contract {contract.path.name})"
                errors.append(SpecError(path, f"serving.{field}.{name}", msg))
    return errors


def _landing_problem(domains: Mapping[str, Domain], landing: str, prefix: str) -> str | None:
    sample = f"{landing}/{prefix}-x.jsonl"
    globs = [i.location for d in domains.values() for p in d.products.values()
             for i in p.input_ports if i.kind == "landing" and i.location]  # fmt: skip
    if any(fnmatch(sample, g) for g in globs):
        return None
    return f"no landing input reads {sample} (landing globs: {', '.join(sorted(globs)) or 'none'})"


def serving_problems(
    domains: Mapping[str, Domain], contracts: Mapping[str, Contract]
) -> list[SpecError]:
    """Every problem of the mesh's ``serving:`` blocks, naming file and field."""
    ports = port_majors(domains)
    errors: list[SpecError] = []
    for domain in domains.values():
        for product in domain.products.values():
            if product.serving is None:
                continue
            path = domain.path / "products" / f"{product.name}.yaml"
            errors += _product_problems(path, (domain.name, product), ports, contracts)
            events = product.serving.events
            problem = events and _landing_problem(domains, events.landing, events.prefix)
            if problem:
                errors.append(SpecError(path, "serving.events.landing", problem))
    return errors
