"""Which product `mesh serve` serves, and its ``serving:`` block resolved to ports and columns."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mesh_platform.contracts.odcs import load_contracts
from mesh_platform.contracts.serving_refs import port_majors, serving_problems
from mesh_platform.descriptors.loader import Domain, load_mesh
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.descriptors.serving import ServingSpec
from mesh_platform.serving.config import ServedPorts


class ServeSetupError(Exception):
    """The mesh declares nothing (or nothing unambiguous, or nothing valid) to serve."""


def servable(domains: Mapping[str, Domain]) -> dict[str, tuple[Domain, ProductSpec]]:
    """``domain/product`` -> (domain, product) of every product that declares ``serving:``."""
    return {f"{d.name}/{p.name}": (d, p) for d in domains.values() for p in d.products.values()
            if p.serving is not None}  # fmt: skip


def select(domains: Mapping[str, Domain], wanted: str | None) -> tuple[Domain, ProductSpec]:
    """The product to serve: ``wanted`` (``domain/product``), else the only one with ``serving:``.

    Raises:
        ServeSetupError: none declares ``serving:``, several do and none was chosen, or the
            chosen one does not exist or declares none.
    """
    found = servable(domains)
    listed = ", ".join(sorted(found)) or "none"
    if wanted is not None:
        if wanted not in found:
            raise ServeSetupError(f"product {wanted} does not exist or declares no 'serving:' "
                                  f"(products that do: {listed})")  # fmt: skip
        return found[wanted]
    if not found:
        raise ServeSetupError(
            "no product declares 'serving:': add a serving block to the ML "
            "product that publishes ranked predictions (docs/serving.md)"
        )
    if len(found) > 1:
        raise ServeSetupError(f"several products declare 'serving:' ({listed}): choose one "
                              "with --product DOMAIN/PRODUCT")  # fmt: skip
    return next(iter(found.values()))


def _ref(majors: Mapping[str, Mapping[int, object]], key: str, version: int | None) -> str:
    known = majors.get(key) or {1: None}
    return f"{key}@v{version or max(known)}"


def resolve(domain: Domain, product: ProductSpec, domains: Mapping[str, Domain]) -> ServedPorts:
    """The served ports and columns of ``product``'s serving block (checked beforehand)."""
    spec = product.serving
    assert isinstance(spec, ServingSpec)
    majors = port_majors(domains)
    p, c, q, e = spec.predictions, spec.catalogue, spec.popularity, spec.events
    own = max(o.version for o in product.output_ports if o.name == p.port)
    return ServedPorts(
        model_name=product.name, predictions=f"{domain.name}/{p.port}@v{own}", entity=p.entity,
        item=p.item, rank=p.rank, score=p.score, as_of=p.as_of,
        catalogue=c and _ref(majors, c.port, c.version), catalogue_key=c.key if c else "",
        group=c.group if c else "group", popularity=q and _ref(majors, q.port, q.version),
        popularity_item=q.item if q else "", popularity_time=q.time if q else "",
        popularity_weight=q.weight if q else None,
        popularity_exclude=tuple((k, tuple(v)) for k, v in q.exclude.items()) if q else (),
        landing=e.landing if e else None, landing_prefix=e.prefix if e else "events_api",
        event_weights=tuple(e.weights.items()) if e else (("view", 1.0), ("add_to_cart", 3.0)),
    )  # fmt: skip


def load_served(root: Path, wanted: str | None) -> tuple[ServedPorts, int]:
    """Resolve what to serve from the mesh at ``root``: (ports, popularity window in days).

    Raises:
        ServeSetupError: nothing to serve, an ambiguous choice, or errors in the chosen product
            (each naming file and field).
    """
    domains, errors = load_mesh(root / "domains")
    try:
        domain, product = select(domains, wanted)
    except ServeSetupError as exc:  # a serving block that does not load is why: say so
        bad = [str(e) for e in errors if e.field.startswith("serving")]
        raise ServeSetupError("\n".join([str(exc), *bad])) from None
    path = domain.path / "products" / f"{product.name}.yaml"
    contracts, _ = load_contracts(root / "contracts")
    mine = [e for e in errors + serving_problems(domains, contracts) if e.file == path]
    if mine:
        raise ServeSetupError("\n".join(str(x) for x in mine))
    assert product.serving is not None
    window = product.serving.popularity.window_days if product.serving.popularity else 30
    return resolve(domain, product, domains), window
