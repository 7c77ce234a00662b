"""Everything the policies read, loaded once per governance run (runtime state lazily)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mesh_platform.settings import MeshPaths
from mesh_platform.spec.contracts import Contract, load_contracts
from mesh_platform.spec.errors import SpecError
from mesh_platform.spec.loader import Domain, load_mesh

if TYPE_CHECKING:
    from mesh_platform.lineage.store import LineageStore
    from mesh_platform.ports import Snapshot
    from mesh_platform.spec.models import ProductSpec

# libyaml's loader is ~10x faster than the pure-Python one; the benchmark mesh has 4,000 files.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

        if not self.paths.lake.is_dir():
            return {}
        return {(s.domain, s.product, s.version): s for s in list_ports(self.paths.lake)}

    @cached_property
    def lineage_store(self) -> LineageStore | None:
        """The lineage store, synced from the event log; None when nothing was logged."""
        if not (self.paths.lineage / "events.jsonl").exists():
            return None
        from mesh_platform.lineage.store import open_store

        return open_store(self.paths.lineage)

    @property
    def registry(self) -> Path:
        """Root of the model registry."""
        return self.paths.registry


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
            ctx.dbt_models[name] = _dbt_docs(dom.dbt_dir / "models", ctx.dbt_errors)
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

    def products(self) -> list[tuple[Domain, ProductSpec]]:
        """Every (domain, product) this run judges."""
        return [(d, p) for d in self.selected() for p in d.products.values()]

    def rel(self, path: Path | str) -> str:
        """``path`` relative to the repo root when under it (findings read the same anywhere)."""
        path = Path(path)
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def product_file(self, domain: Domain, product: str) -> str:
        """Repo-relative path of a product descriptor."""
        return self.rel(domain.path / "products" / f"{product}.yaml")

    def domain_file(self, domain: Domain) -> str:
        """Repo-relative path of a domain descriptor."""
        return self.rel(domain.path / "domain.yaml")

    def port_contract(self, domain: str, port: str, major: int) -> Contract | None:
        """The contract of one port major: the newest's file or the older ``@v<major>`` one."""
        newest = self.contracts.get(f"{domain}/{port}")
        if newest is not None and newest.major == major:
            return newest
        return self.contracts.get(f"{domain}/{port}@v{major}")


def _dbt_docs(models_dir: Path, errors: list[SpecError]) -> dict[str, DbtModelDoc]:
    """Every model documented in the .yml files under ``models_dir``, by model name."""
    docs: dict[str, DbtModelDoc] = {}
    if not models_dir.is_dir():
        return docs
    for yml in sorted(models_dir.rglob("*.yml")):
        data = _read(yml, errors)
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


def _read(path: Path, errors: list[SpecError]) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (safe)
    except (OSError, yaml.YAMLError) as exc:
        errors.append(SpecError(path, "", f"cannot read dbt yml: {exc}"))
        return {}
    return data if isinstance(data, dict) else {}
