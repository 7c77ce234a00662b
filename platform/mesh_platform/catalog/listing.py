"""The mesh's product catalog: every output port with owner, contract, freshness and last update."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from mesh_platform import ports
from mesh_platform.catalog.freshness import FRESH, NEVER, STALE, freshness_sla, judge
from mesh_platform.contracts.checks import load_port_contract
from mesh_platform.descriptors.errors import SpecError, SpecErrors
from mesh_platform.descriptors.loader import Domain, load_mesh
from mesh_platform.descriptors.models import OutputPort, ProductSpec
from mesh_platform.settings import MeshPaths

__all__ = ["FRESH", "NEVER", "STALE", "CatalogEntry", "catalog"]


@dataclass(frozen=True)
class CatalogEntry:
    """One output port of one product, as a consumer looks it up."""

    domain: str
    product: str
    port: str
    version: int
    visibility: str
    tier: str
    owners: list[str]
    description: str
    location: str
    contract_id: str | None
    contract_version: str | None
    freshness_hours: float
    freshness: str  # the one verdict (catalog.freshness): fresh, stale or never published
    freshness_basis: str  # element <column> or last publish
    freshness_newest: str | None  # the element's newest value (or the publish time), UTC
    freshness_age_hours: float | None
    last_update: str | None
    rows: int | None
    tags: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # name -> description

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)

    def matches(self, term: str) -> bool:
        """Case-insensitive match on names, description, tags, columns and their descriptions."""
        needle = term.lower()
        haystack = [self.domain, self.product, self.port, self.description, *self.tags,
                    *self.columns, *self.columns.values(), self.tier, self.visibility]  # fmt: skip
        return any(needle in (text or "").lower() for text in haystack)


def _entry(
    paths: MeshPaths, domain: Domain, product: ProductSpec, port: OutputPort, now: datetime
) -> CatalogEntry:
    contract = load_port_contract(paths.contracts, domain.name, port.name, port.version)
    ref = ports.PortRef(domain.name, port.name, port.version)
    snap = ports.current_snapshot(paths.home, ref)
    verdict = judge(freshness_sla(product, contract), snap, now, home=paths.home)
    columns = {c.name or "": c.description or "" for c in contract.columns} if contract else {}
    return CatalogEntry(
        domain=domain.name, product=product.name, port=port.name, version=port.version,
        visibility=port.visibility, tier=product.tier, owners=domain.owners_of(product),
        description=" ".join(product.description.split()), location=f"lake/{ref.relative_dir}",
        contract_id=contract.id if contract else None,
        contract_version=contract.version if contract else None,
        freshness_hours=verdict.promised_hours, freshness=verdict.status,
        freshness_basis=verdict.basis, freshness_newest=verdict.newest,
        freshness_age_hours=verdict.age_hours,
        last_update=snap.published_at if snap else None, rows=snap.rows if snap else None,
        tags=list(product.tags), columns=columns,
    )  # fmt: skip


def catalog(
    paths: MeshPaths, domain: str | None = None, term: str | None = None,
    now: datetime | None = None,
) -> tuple[list[CatalogEntry], list[SpecError]]:  # fmt: skip
    """The catalog's entries, filtered by domain and search term, and every problem met.

    Args:
        paths: the mesh.
        domain: only this domain's products.
        term: only entries whose names, description, tags or columns contain it.
        now: the time freshness is judged at (default: now, UTC).

    Returns:
        Entries sorted by domain, product and port, and the descriptor or contract errors that
        kept a product or port out (never silently).

    """
    domains, errors = load_mesh(paths.domains)
    now = now or datetime.now(UTC)
    entries = []
    for found in domains.values():
        if domain and found.name != domain:
            continue
        for product in found.products.values():
            for port in product.output_ports:
                try:
                    entries.append(_entry(paths, found, product, port, now))
                except SpecErrors as exc:
                    errors.extend(exc.errors)
    if term:
        entries = [e for e in entries if e.matches(term)]
    return sorted(entries, key=lambda e: (e.domain, e.product, e.port, e.version)), errors
