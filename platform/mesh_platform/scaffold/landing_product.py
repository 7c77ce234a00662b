"""`mesh new product --from-landing`: a source-aligned product over one landing feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mesh_platform.contracts.infer import DECIDE
from mesh_platform.contracts.odcs import Contract, load_contract
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.scaffold.domain import check_name
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.render import write_all

INGESTED = "raw"  # the dbt source the platform gives landed rows unless a feed says otherwise


def _feed_port(root: Path, domain: str, feed: str) -> dict[str, Any] | None:
    """The landing input port named ``feed`` in any product of the domain, as written."""
    for path in sorted((root / "domains" / domain / "products").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for port in spec.get("input_ports") or []:
            if port.get("kind") == "landing" and port.get("name") == feed:
                return port
    return None


def _source_contract(root: Path, domain: str, feed: str) -> Contract:
    path = root / "contracts" / domain / "sources" / f"{feed}.odcs.yaml"
    if not path.exists():
        raise ScaffoldError(
            f"--from-landing {feed}: no source contract {path}; write one with "
            f"`mesh contracts infer FILE --domain {domain} --name {feed} -o {path}`"
        )
    try:
        return load_contract(path)
    except SpecErrors as exc:
        raise ScaffoldError(str(exc.errors[0])) from None


def _location(contract: Contract) -> str:
    servers = contract.model.servers or []
    path = next((s.path for s in servers if s.path), None) or ""
    return path.removeprefix("landing/")


def _sql_files(models: Path, name: str, feed: str, source: str, contract: Contract) -> dict:
    stg = f"stg_{source}__{feed}"
    cols = ",\n".join(
        f"    cast({c.name} as {c.physicalType}) as {c.name}" for c in contract.columns
    )
    staging = f"select\n{cols}\nfrom {{{{ source('{source}', '{feed}') }}}}\n"
    docs = [{"name": c.name, "description": c.description} for c in contract.columns]
    about = f"{DECIDE} what one row of {name} is (landed {feed}, typed)"
    mart_yml = {"version": 2, "models": [{"name": name, "description": about, "columns": docs}]}
    mart = models / "marts" / name
    files = {mart.with_suffix(".sql"): f"select * from {{{{ ref('{stg}') }}}}\n",
             mart.with_suffix(".yml"): yaml.safe_dump(mart_yml, sort_keys=False)}  # fmt: skip
    if not (models / "staging" / f"{stg}.sql").exists():  # another product may read it already
        files[models / "staging" / f"{stg}.sql"] = staging
    return files


def new_landing_product(
    root: Path, domain: str, name: str, feed: str, public: bool = False,
    freshness_hours: float = 24, description: str | None = None,
) -> list[Path]:  # fmt: skip
    """Create a source-aligned product of ``domain`` reading the landing feed ``feed``.

    Writes the descriptor, a staging model casting the feed's columns to its source contract's
    types, and the port's model with its .yml (docs from the source contract).

    Returns:
        The files written, relative to ``root``.

    Raises:
        ScaffoldError: unknown domain, no source contract for the feed, or a file that exists.
    """
    check_name(name, "product")
    domains, _ = load_mesh(root / "domains")
    if domain not in domains:
        raise ScaffoldError(f"no domain '{domain}' under {root / 'domains'}: `mesh new domain`")
    contract = _source_contract(root, domain, feed)
    port = _feed_port(root, domain, feed) or {"name": feed, "kind": "landing",
                                              "location": _location(contract)}  # fmt: skip
    source = port.get("dbt_source") or INGESTED
    spec = {
        "name": name, "kind": "source-aligned",
        "description": description or f"{DECIDE} what {name} holds, for whom",
        "tier": "bronze", "input_ports": [port],
        "output_ports": [{"name": name, "model": name,
                          "visibility": "public" if public else "private", "version": 1}],
        "slos": {"freshness_hours": int(freshness_hours) if freshness_hours.is_integer()
                 else freshness_hours},
    }  # fmt: skip
    home = domains[domain]
    header = f"# Data product {name}, scaffolded by `mesh new product --from-landing {feed}`.\n"
    files = {
        home.path / "products" / f"{name}.yaml": header + yaml.safe_dump(spec, sort_keys=False)
    }
    files |= _sql_files(home.dbt_dir / "models", name, feed, source, contract)
    return write_all(files, root)
