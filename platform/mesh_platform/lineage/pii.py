"""Where PII goes: follow contract-classified PII columns through column lineage to every port."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mesh_platform.access.masking import PII, pii_verdict
from mesh_platform.contracts.odcs import Contract
from mesh_platform.descriptors.loader import Domain
from mesh_platform.lineage.naming import PORT_TAIL, landing_dataset, port_dataset, table_dataset
from mesh_platform.lineage.queries import downstream, node_id
from mesh_platform.lineage.store import LineageStore
from mesh_platform.settings import MeshPaths


@dataclass(frozen=True)
class PiiSource:
    """A column a contract classifies ``pii``, on one dataset that holds it."""

    contract: str
    dataset: str
    column: str


@dataclass(frozen=True)
class PiiReach:
    """A column derived from a PII source, the path there, and the verdict if it is in a port."""

    source: PiiSource
    dataset: str
    column: str
    path: list[str]
    port: str | None = None  # contract key of the port the column is published in
    classification: str | None = None
    flagged: bool = False
    reason: str = ""


@dataclass
class PiiReport:
    """Every PII source and every column it reaches; ``flagged`` are the policy breaches."""

    sources: list[PiiSource] = field(default_factory=list)
    reached: list[PiiReach] = field(default_factory=list)

    @property
    def flagged(self) -> list[PiiReach]:
        """Port columns derived from PII that reach consumers unmasked, for no approved purpose."""
        return [r for r in self.reached if r.flagged]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"sources": [asdict(s) for s in self.sources],
                "reached": [asdict(r) for r in self.reached],
                "flagged": [asdict(r) for r in self.flagged]}  # fmt: skip


def contract_datasets(paths: MeshPaths, contract: Contract) -> list[str]:
    """Datasets a contract describes: a port, or a source's raw table and its landing files."""
    if not contract.is_source:
        return [str(port_dataset(paths, contract.domain, contract.product, contract.port_version))]
    found = []
    for server in contract.model.servers or []:
        location = getattr(server, "path", None) or ""
        if location.startswith("landing/"):
            found.append(str(landing_dataset(paths, location.removeprefix("landing/"))))
    return [*found, str(table_dataset(paths, contract.domain, "raw", contract.product))]


def pii_sources(paths: MeshPaths, contracts: dict[str, Contract]) -> list[PiiSource]:
    """Every (dataset, column) that a port or source contract classifies ``pii``."""
    return [
        PiiSource(key, ds, col.name or "")
        for key, contract in sorted(contracts.items())
        for col in contract.columns
        if col.classification == PII
        for ds in contract_datasets(paths, contract)
    ]


def _paths_from(root: str, edges: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Shortest path (node ids) from the root to each node reached over the edges."""
    nxt: dict[str, list[str]] = {}
    for s, t in edges:
        nxt.setdefault(s, []).append(t)
    found, todo = {root: [root]}, deque([root])
    while todo:
        here = todo.popleft()
        for there in sorted(nxt.get(here, [])):
            if there not in found:
                found[there] = [*found[here], there]
                todo.append(there)
    return found


def permitted_columns(domains: Mapping[str, Domain]) -> dict[str, set[str]]:
    """Columns each port may publish unmasked (its product's ``pii_purpose``), by contract key."""
    return {
        f"{domain.name}/{port.name}": set(product.pii_purpose.columns)
        for domain in domains.values()
        for product in domain.products.values()
        if product.pii_purpose
        for port in product.output_ports
    }


def _verdict(
    port: tuple[str, Contract] | None,
    dataset: str,
    column: str,
    permitted: Mapping[str, Collection[str]],
) -> dict[str, Any]:
    if port is None:
        if not dataset.startswith("duckdb://") and PORT_TAIL.search(dataset):
            return {"flagged": True, "reason": "published in a port without a contract"}
        return {}
    key, contract = port
    cls = next((c.classification for c in contract.columns
                if (c.name or "").lower() == column.lower()), None)  # fmt: skip
    # The same verdict masking at publish and governance give: one answer everywhere.
    verdict = pii_verdict(cls, column, permitted.get(key.split("@")[0], ()))
    return {
        "port": key,
        "classification": cls,
        "flagged": verdict.flagged,
        "reason": verdict.reason,
    }


def scan(
    store: LineageStore,
    paths: MeshPaths,
    contracts: dict[str, Contract],
    permitted: Mapping[str, Collection[str]] | None = None,
) -> PiiReport:
    """Trace every PII column downstream and judge every port column it reaches.

    Args:
        store: a synced lineage store.
        paths: the mesh (dataset names depend on MESH_HOME).
        contracts: port and source contracts by key, as ``load_contracts`` returns them.
        permitted: columns a port may publish unmasked, as ``permitted_columns`` returns them.

    Returns:
        The sources, each column they reach with its path, and the flagged port columns.
    """
    ports = {ds: (key, c) for key, c in contracts.items() if not c.is_source
             for ds in contract_datasets(paths, c)}  # fmt: skip
    report = PiiReport(sources=pii_sources(paths, contracts))
    allowed = permitted or {}
    seeds = {node_id(s.dataset, s.column) for s in report.sources}
    seen: set[tuple[str, str, str]] = set()  # (contract, its column, node) reported already
    for source in report.sources:
        root = node_id(source.dataset, source.column)
        if source.dataset in ports:  # PII in a port's contract: hashed at publish, or permitted
            verdict = _verdict(ports[source.dataset], source.dataset, source.column, allowed)
            report.reached.append(
                PiiReach(source, source.dataset, source.column, [root], **verdict)
            )
        graph = downstream(store, source.dataset, column=source.column)
        routes = _paths_from(root, [(e.source, e.target) for e in graph.edges])
        for node in graph.nodes:
            # Landing files and raw table hold the same source column: report a column once,
            # with the path from the first (landing) seed.
            key = (source.contract, source.column, node.id)
            if node.id in seeds or node.column is None or key in seen:
                continue
            seen.add(key)
            verdict = _verdict(ports.get(node.dataset), node.dataset, node.column, allowed)
            report.reached.append(
                PiiReach(source, node.dataset, node.column, routes.get(node.id, []), **verdict)
            )
    return report
