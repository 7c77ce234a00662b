"""Everything the policies read, loaded once per governance run (runtime state lazily)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mesh_platform import yamlio
from mesh_platform.contracts.odcs import Contract, load_contracts
from mesh_platform.dbt.sources import port_reads
from mesh_platform.descriptors.errors import SpecError
from mesh_platform.descriptors.loader import Domain, load_mesh
from mesh_platform.settings import MeshPaths

if TYPE_CHECKING:
    from mesh_platform.descriptors.models import ProductSpec
    from mesh_platform.lineage.store import LineageStore
    from mesh_platform.ports import Snapshot


@dataclass(frozen=True)
class DbtModelDoc:
    """A dbt model's documentation as written in its .yml (read without running dbt)."""

    name: str
    file: Path
    index: int  # position in the file's ``models:`` list, for the field path
    description: str | None
    columns: dict[str, str | None]  # column name -> description


@dataclass
class Runtime:
    """What ``MESH_HOME`` holds from earlier runs: ports, lineage, models."""

    paths: MeshPaths

    @property
    def has_runs(self) -> bool:
        """True once anything was published or logged (a fresh clone has neither)."""
        return bool(self.snapshots) or (self.paths.lineage / "events.jsonl").exists()

    @cached_property
    def snapshots(self) -> dict[tuple[str, str, int], Snapshot]:
        """Current snapshot of each published port, by (domain, port, major)."""
        from mesh_platform.ports import list_ports
        from mesh_platform.ports.lakehouse import has_catalog

        if not has_catalog(self.paths.home):
            return {}  # nothing published yet: do not create an empty catalog to look
        return {(s.domain, s.product, s.version): s for s in list_ports(self.paths.home)}

    @cached_property
    def lineage_store(self) -> LineageStore | None:
        """The lineage store, synced from the event log; None when nothing was logged.

        Opened once per governance run and closed by the engine when the run ends.
        """
        if not (self.paths.lineage / "events.jsonl").exists():
            return None
        from mesh_platform.lineage.store import open_store

        return open_store(self.paths.lineage)

    @property
    def registry(self) -> Path:
        """Root of the model registry."""
        return self.paths.registry

    def close(self) -> None:
        """Close the lineage store if a policy opened it (it holds a DuckDB file)."""
        store = self.__dict__.pop("lineage_store", None)
        if store is not None:
            store.close()


@dataclass
class MeshContext:
    """One governance run's view of the mesh: descriptors, contracts, dbt docs, runtime."""

    paths: MeshPaths
    domains: dict[str, Domain]
    spec_errors: list[SpecError]
    contracts: dict[str, Contract]
    contract_errors: list[SpecError]
    domain_filter: str | None = None
    dbt_models: dict[str, dict[str, DbtModelDoc]] = field(default_factory=dict)
    dbt_errors: list[SpecError] = field(default_factory=list)
    # domain -> (dbt source name, table) -> "<domain>/<port>" it reads (sources' meta.mesh_port)
    port_sources: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: MeshPaths, domain: str | None = None) -> MeshContext:
        """Load descriptors, contracts and dbt docs of the mesh at ``paths.root``.

        The whole mesh is loaded even with ``domain`` set: cross-domain policies need it.
        """
        domains, spec_errors = load_mesh(paths.domains)
        contracts, contract_errors = (
            load_contracts(paths.contracts) if paths.contracts.is_dir() else ({}, [])
        )
        ctx = cls(paths, domains, spec_errors, contracts, contract_errors, domain)
        for name, dom in domains.items():
            sources = ctx.port_sources[name] = port_reads(dom)  # generated from input_ports
            ctx.dbt_models[name] = _dbt_docs(dom.dbt_dir / "models", ctx.dbt_errors, sources)
        return ctx

    @property
    def root(self) -> Path:
        """The repository root."""
        return self.paths.root

    @cached_property
    def runtime(self) -> Runtime:
        """The runtime view of ``MESH_HOME`` (read on first use, cached)."""
        return Runtime(self.paths)

    def selected(self) -> list[Domain]:
        """The domains this run judges: all, or only ``domain_filter``."""
        if self.domain_filter is None:
            return list(self.domains.values())
        found = self.domains.get(self.domain_filter)
        return [found] if found else []

    def domain_dirs(self) -> dict[str, Path]:
        """Judged domain folders by name, also those whose domain.yaml failed to load."""
        found = sorted(p.parent for p in self.paths.domains.glob("*/domain.yaml"))
        return {p.name: p for p in found if self.judged(p.name)}

    def products(self) -> list[tuple[Domain, ProductSpec]]:
        """Every (domain, product) this run judges."""
        return [(d, p) for d in self.selected() for p in d.products.values()]

    def rel(self, path: Path | str) -> str:
        """``path`` relative to the repo root when under it (findings read the same anywhere)."""
        text = str(path)
        # Plain prefix tests: Path.is_relative_to cost 0.6 s over a 2,000-product mesh.
        for root in (str(self.root), str(self._resolved_root)):  # resolve() only when needed
            if text.startswith(root + os.sep):
                return text[len(root) + 1 :]
        path = Path(path)
        try:
            return str(path.resolve().relative_to(self._resolved_root))
        except ValueError:
            return str(path)

    @cached_property
    def _resolved_root(self) -> Path:
        return self.root.resolve()

    def product_file(self, domain: Domain, product: str) -> str:
        """Repo-relative path of a product descriptor."""
        return self.rel(domain.path / "products" / f"{product}.yaml")

    def domain_file(self, domain: Domain) -> str:
        """Repo-relative path of a domain descriptor."""
        return self.rel(domain.path / "domain.yaml")

    @cached_property
    def port_products(self) -> dict[tuple[str, str], str]:
        """(domain, port name) -> the product that publishes it."""
        return {
            (d.name, port.name): p.name
            for d in self.domains.values()
            for p in d.products.values()
            for port in p.output_ports
        }

    def locate(self, path: Path | str) -> tuple[str, str | None] | None:
        """(domain, product) a descriptor or contract file belongs to; None outside the mesh."""
        parts = Path(self.rel(path)).parts
        if len(parts) >= 3 and parts[0] == "domains":
            if len(parts) == 4 and parts[2] == "products":
                return parts[1], Path(parts[3]).stem
            return parts[1], None
        if len(parts) == 3 and parts[0] == "contracts":
            port = parts[2].split(".")[0]
            return parts[1], self.port_products.get((parts[1], port))
        return None

    def judged(self, domain: str) -> bool:
        """True when this run judges ``domain``."""
        return self.domain_filter is None or domain == self.domain_filter

    def freshness(self, domain: Domain, product: ProductSpec) -> tuple[float | None, str, str]:
        """A product's tightest freshness promise: (hours, file, field) where it is written.

        Contracted ports promise theirs in the contract; the descriptor's slos.freshness_hours
        covers a product whose ports have none.
        """
        found: list[tuple[float | None, str, str]] = []
        for port in product.output_ports:
            contract = self.port_contract(domain.name, port.name, port.version)
            if contract is not None and contract.freshness_hours is not None:
                found.append((contract.freshness_hours, self.rel(contract.path),
                              "slaProperties.freshness"))  # fmt: skip
        own = (product.slos.freshness_hours, self.product_file(domain, product.name),
               "slos.freshness_hours")  # fmt: skip
        return min((f for f in [*found, own] if f[0] is not None), default=own,
                   key=lambda f: f[0] or 0.0)  # fmt: skip

    def port_contract(self, domain: str, port: str, major: int) -> Contract | None:
        """The contract of one port major: the newest's file or the older ``@v<major>`` one."""
        newest = self.contracts.get(f"{domain}/{port}")
        if newest is not None and newest.major == major:
            return newest
        return self.contracts.get(f"{domain}/{port}@v{major}")


def _dbt_docs(
    models_dir: Path, errors: list[SpecError], sources: dict[tuple[str, str], str]
) -> dict[str, DbtModelDoc]:
    """Every model documented in the .yml files under ``models_dir``, by model name.

    Also fills ``sources`` with the dbt sources that read another product's port.
    """
    docs: dict[str, DbtModelDoc] = {}
    if not models_dir.is_dir():
        return docs
    for yml in sorted(models_dir.rglob("*.yml")):
        data = _read(yml, errors)
        _port_sources(data, sources)
        for i, model in enumerate(data.get("models") or []):
            if not isinstance(model, dict) or not model.get("name"):
                errors.append(SpecError(yml, f"models[{i}].name", "a model entry needs a name"))
                continue
            columns = {
                str(c.get("name")): c.get("description")
                for c in model.get("columns") or []
                if isinstance(c, dict) and c.get("name")
            }
            name = str(model["name"])
            docs[name] = DbtModelDoc(name, yml, i, model.get("description"), columns)
    return docs


def _port_sources(data: dict[str, Any], out: dict[tuple[str, str], str]) -> None:
    for source in data.get("sources") or []:
        for table in (source.get("tables") or []) if isinstance(source, dict) else []:
            port = (table.get("meta") or {}).get("mesh_port") if isinstance(table, dict) else None
            if port:
                out[str(source.get("name")), str(table.get("name"))] = str(port)


def _read(path: Path, errors: list[SpecError]) -> dict[str, Any]:
    try:
        data = yamlio.safe_load(
            path.read_text(encoding="utf-8")
        )  # shared within yamlio.shared_texts()
    except (OSError, yaml.YAMLError) as exc:
        errors.append(SpecError(path, "", f"cannot read dbt yml: {exc}"))
        return {}
    return data if isinstance(data, dict) else {}
