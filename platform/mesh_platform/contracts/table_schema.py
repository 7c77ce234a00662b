"""What a port's Iceberg table takes from its ODCS contract: columns' required flags and docs."""

from __future__ import annotations

from typing import Any

from mesh_platform.contracts.odcs import Contract


def publish_facts(contract: Contract | None) -> dict[str, Any]:
    """Keyword arguments of ``ports.publish`` that carry a contract into the table.

    Args:
        contract: The port's contract; None for an uncontracted port.

    Returns:
        ``columns`` (name -> (required, doc): the table schema's nullability and field docs)
        and ``summary`` (the contract's id and version, on every snapshot it published).
    """
    if contract is None:
        return {}
    columns = {
        c.name: (bool(c.required), " ".join((c.description or "").split()) or None)
        for c in contract.columns
        if c.name
    }
    summary = {"mesh.contract-id": contract.id, "mesh.contract-version": contract.version}
    return {"columns": columns, "summary": summary}
