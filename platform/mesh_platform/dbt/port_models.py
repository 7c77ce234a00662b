"""A public port model's dbt contract (columns, types, docs) from its ODCS contract."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mesh_platform.contracts.odcs import Contract
from mesh_platform.contracts.port_files import load_port_contract
from mesh_platform.contracts.types import column_type
from mesh_platform.descriptors.loader import Domain

_TYPE_KEYS = ("data_type", "constraints")  # what the contract decides for a column


def port_contracts(domain: Domain, contracts_dir: Path) -> dict[str, Contract]:
    """Dbt model name -> the contract of the port it builds, for every contracted dbt port."""
    found = {}
    for product in domain.products.values():
        for port in product.output_ports:
            if port.producer == "dbt" and port.model:
                contract = load_port_contract(contracts_dir, domain.name, port.name, port.version)
                if contract is not None:
                    found[port.model] = contract
    return found


def _column(prop: Any, team: dict[str, Any]) -> dict[str, Any]:
    """The contract's column merged over the team's: tests and extra keys stay, types do not."""
    out: dict[str, Any] = {"name": prop.name}
    out["data_type"] = column_type(prop.physicalType, prop.logicalType).lower()
    out["description"] = prop.description or team.get("description") or ""
    # `required` is no dbt not_null constraint: DuckDB would fail the build on the first null
    # and lose the candidate; the blocking contract check keeps it with its rows and counts.
    return {**out, **{k: v for k, v in team.items() if k not in (*_TYPE_KEYS, *out)}}


def contracted_model(contract: Contract, team: dict[str, Any]) -> dict[str, Any]:
    """The model entry dbt enforces: the contract's columns in its order, the team's extras kept.

    Args:
        contract: the port's ODCS contract.
        team: the domain's own entry for the model (``{}`` when it has none).

    Returns:
        A new entry with ``config.contract.enforced``; columns the contract does not hold stay
        after the contract's (dbt then refuses the build if the SQL does not produce them).
    """
    columns = {str(c.get("name")): c for c in team.get("columns") or [] if isinstance(c, dict)}
    merged = [_column(p, columns.pop(p.name or "", {})) for p in contract.columns]
    config = dict(team.get("config") or {})
    config["contract"] = {**(config.get("contract") or {}), "enforced": True}
    out = {**team, "config": config, "columns": [*merged, *columns.values()]}
    if not out.get("description") and contract.table.description:
        out["description"] = contract.table.description
    return out


def inject_contracts(
    docs: Iterable[dict[str, Any]], contracts: dict[str, Contract]
) -> dict[str, Contract]:
    """Replace each contracted model's entry in the domain's .yml documents (changed in place).

    Returns:
        The contracts of models no document declares (their entry is to be generated).
    """
    left = dict(contracts)
    for doc in docs:
        models = doc.get("models") or []
        for i, entry in enumerate(models):
            if isinstance(entry, dict) and entry.get("name") in left:
                models[i] = contracted_model(left.pop(entry["name"]), entry)
    return left


def models_doc(contracts: dict[str, Contract]) -> dict[str, Any]:
    """A dbt properties document for contracted models the domain wrote no .yml for."""
    models = [{"name": m, **contracted_model(c, {})} for m, c in sorted(contracts.items())]
    return {"version": 2, "models": models}
