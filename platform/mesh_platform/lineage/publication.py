"""What a port publish adds to lineage: its dataset, columns, version and contract verdict."""

from __future__ import annotations

from typing import Any

from mesh_platform.contracts.odcs import Contract
from mesh_platform.contracts.validate import ValidationReport
from mesh_platform.descriptors.models import OutputPort
from mesh_platform.lineage.emit import Publication
from mesh_platform.lineage.naming import port_dataset
from mesh_platform.ports import PortRef
from mesh_platform.ports.lakehouse import describe
from mesh_platform.settings import MeshPaths


def _columns(
    contract: Contract | None, node: dict[str, Any]
) -> list[tuple[str, str, str | None, str | None]]:
    if contract is not None:
        return [
            (c.name or "", c.physicalType or c.logicalType or "", c.description, c.classification)
            for c in contract.columns
        ]
    return [(name, col.get("data_type") or "", col.get("description") or None, None)
            for name, col in node.get("columns", {}).items()]  # fmt: skip


def _verdict(
    contract: Contract | None, report: ValidationReport | None
) -> tuple[dict | None, list]:
    if contract is None:
        return None, []
    failed = [f.rule_id for f in report.failures] if report else []
    verdict = {"id": contract.id, "version": contract.version,
               "passed": bool(report and report.passed), "failedRules": failed}  # fmt: skip
    assertions = []
    if report is not None:
        from mesh_platform.contracts.rules import compile_rules

        for rule in compile_rules(contract.model).rules:
            assertions.append((rule.id, rule.id not in failed, rule.column))
    return verdict, assertions


def publication(
    paths: MeshPaths, domain: str, port: OutputPort, owners: list[str], description: str,
    contract: Contract | None, report: ValidationReport | None, node: dict[str, Any],
    snapshot: Any | None,
) -> Publication:  # fmt: skip
    """The lineage view of one port publish (``snapshot`` None when the audit refused it)."""
    verdict, assertions = _verdict(contract, report)
    return Publication(
        dataset=port_dataset(paths, domain, port.name, port.version), owners=owners,
        description=description, visibility=port.visibility, columns=_columns(contract, node),
        snapshot_id=snapshot.snapshot_id if snapshot else None,
        rows=snapshot.rows if snapshot else 0, contract=verdict, assertions=assertions,
        domain=domain, table=PortRef(domain, port.name, port.version).table,
        catalog=describe(paths.home),
    )  # fmt: skip
