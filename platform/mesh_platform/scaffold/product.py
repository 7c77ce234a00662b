"""Scaffold a data product: descriptor, dbt model and .yml, port source, contract when public."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.contracts.odcs import Contract, load_contract
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import Domain, load_mesh
from mesh_platform.scaffold.domain import check_name
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.render import render, write_all


@dataclass(frozen=True)
class Upstream:
    """The public port a new product reads: its producer, major, dbt model and contract."""

    product: str  # <domain>/<port>
    domain: str
    port: str
    version: int
    model: str
    contract: Contract

    @property
    def name(self) -> str:
        """The input port's name in the new descriptor."""
        return self.port


def _upstream(root: Path, domains: dict[str, Domain], ref: str) -> Upstream:
    """The newest major of the public port ``ref`` (``<domain>/<port>``), with its contract."""
    if ref.count("/") != 1:
        raise ScaffoldError(f"--from '{ref}' must be <domain>/<port>, e.g. billing/invoices")
    domain, port = ref.split("/")
    majors = [
        p for d in domains.values() if d.name == domain
        for prod in d.products.values() for p in prod.output_ports if p.name == port
    ]  # fmt: skip
    if not majors:
        raise ScaffoldError(f"--from '{ref}': no output port '{port}' in domain '{domain}'")
    newest = max(majors, key=lambda p: p.version)
    path = root / "contracts" / domain / f"{port}.odcs.yaml"
    if newest.visibility != "public" or not path.exists():
        raise ScaffoldError(f"--from '{ref}': read a public port with a contract (no {path})")
    try:
        contract = load_contract(path)
    except SpecErrors as exc:
        raise ScaffoldError(f"--from '{ref}': its contract does not load:\n{exc}") from None
    model = newest.model or port
    return Upstream(ref, domain, port, newest.version, model, contract)


def _columns(upstream: Upstream, wanted: list[str] | None) -> list[dict[str, Any]]:
    """The columns to carry over, with type, description and classification from the contract."""
    props = {p.name or "": p for p in upstream.contract.columns}
    unknown = [c for c in wanted or [] if c not in props]
    if unknown:
        raise ScaffoldError(
            f"--columns {', '.join(unknown)}: not in {upstream.product}; it has {', '.join(props)}"
        )
    names = wanted or list(props)
    key = upstream.contract.primary_key
    keep_key = bool(key) and set(key) <= set(names)  # a subset of the key is no key
    return [
        {
            "name": n, "data_type": props[n].physicalType, "logical_type": props[n].logicalType,
            "description": props[n].description, "required": bool(props[n].required),
            "classification": props[n].classification,
            "pk_position": key.index(n) + 1 if keep_key and n in key else None,
        }
        for n in names
    ]  # fmt: skip


def _number(value: float) -> int | float:
    """24.0 -> 24: a whole number reads as one in YAML."""
    return int(value) if value == int(value) else value


def _staging(models: Path, domain: str, up: Upstream, columns: list) -> dict[Path, str]:
    """Files of the staging model that reads another domain's port (none if it exists)."""
    model = f"stg_{up.domain}__{up.port}"
    sql = models / "staging" / f"{model}.sql"
    if sql.exists():
        return {}
    values = {"model": model, "product": up.product, "domain": domain, "columns": columns,
              "source_name": up.domain, "table": up.port}  # fmt: skip
    return {  # the port's dbt source is generated from the descriptor's input_ports
        sql: render("product/staging.sql.j2", **values),
        sql.with_suffix(".yml"): render("product/staging.yml.j2", **values),
    }


def new_product(
    root: Path,
    domain: str,
    name: str,
    source: str,
    public: bool = False,
    columns: list[str] | None = None,
    freshness_hours: float = 24,
    description: str | None = None,
) -> list[Path]:
    """Create a product of ``domain`` that reads the public port ``source`` and builds at once.

    Args:
        root: the repository root.
        domain: an existing domain.
        name: the product, its output port and its dbt model (lower snake case).
        source: the public port it reads, ``<domain>/<port>``.
        public: publish the port publicly, with an ODCS contract matching the model's columns.
        columns: the columns of ``source`` to carry over (default: all).
        freshness_hours: the freshness SLO.
        description: what the product is (a TODO when not given).

    Returns:
        The files written or changed, relative to ``root``.

    Raises:
        ScaffoldError: bad names, unknown domain, port or column, or a file that exists.

    """
    check_name(name, "product")
    domains, _ = load_mesh(root / "domains")
    if domain not in domains:
        raise ScaffoldError(f"no domain '{domain}' under {root / 'domains'}: `mesh new domain`")
    home = domains[domain]
    if name in home.products:
        raise ScaffoldError(f"product '{domain}/{name}' exists already")
    clash = next((home.dbt_dir / "models").rglob(f"{name}.sql"), None)
    if clash is not None:  # dbt model names are unique within a project
        raise ScaffoldError(f"a dbt model '{name}' exists already at {clash.relative_to(root)}")
    up = _upstream(root, domains, source)
    cols = _columns(up, columns)
    models = home.dbt_dir / "models"
    same = up.domain == domain
    values = {
        "domain": domain, "name": name, "input": up, "columns": cols, "public": public,
        "visibility": "public" if public else "private", "kind": "aggregate",
        "freshness_hours": _number(freshness_hours), "owners": home.spec.owners,
        "upstream_model": up.model if same else f"stg_{up.domain}__{up.port}",
        "description": description or "TODO: what this product is, for whom, one row per what",
    }  # fmt: skip
    mart = models / "marts" / f"{name}.sql"
    files = {
        home.path / "products" / f"{name}.yaml": render("product/product.yaml.j2", **values),
        mart: render("product/mart.sql.j2", **values),
        mart.with_suffix(".yml"): render("product/mart.yml.j2", **values),
    }
    if public:
        contract = root / "contracts" / domain / f"{name}.odcs.yaml"
        files[contract] = render("product/contract.odcs.yaml.j2", **values)
    write_all(files, root)  # refuses before writing anything when one exists
    extra = {} if same else _staging(models, domain, up, _columns(up, None))
    write_all(extra, root)
    return [p.relative_to(root) for p in [*files, *extra]]
