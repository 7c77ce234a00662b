"""Contracts as blocking Dagster asset checks: the spec per port, the result from a validation."""

from __future__ import annotations

import dagster as dg

from mesh_platform.contracts.odcs import Contract
from mesh_platform.contracts.port_files import load_port_contract as load_port_contract
from mesh_platform.contracts.port_files import port_contract_path as port_contract_path
from mesh_platform.contracts.validate import ValidationReport

CHECK_NAME = "contract"
MAX_FAILURES_SHOWN = 20


def contract_check_spec(key: dg.AssetKey, contract: Contract) -> dg.AssetCheckSpec:
    """A blocking check: a port that breaks its contract is never published."""
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=key,
        blocking=True,
        description=f"{contract.id} v{contract.version}: every rule holds on the candidate "
        "snapshot before it is published (write-audit-publish).",
    )


def _failures_md(report: ValidationReport) -> str:
    lines = ["| rule | column | failing rows | message |", "|---|---|---|---|"]
    for f in report.failures[:MAX_FAILURES_SHOWN]:
        message = f.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {f.rule_id} | {f.column or '-'} | {f.failing_rows} | {message} |")
    return "\n".join(lines)


def check_result(
    key: dg.AssetKey, contract: Contract, report: ValidationReport | None, published: bool
) -> dg.AssetCheckResult:
    """The contract check's result, with which rule failed on which column, and sample rows."""
    metadata: dict[str, dg.RawMetadataValue] = {
        "contract": contract.id,
        "contract_version": contract.version,
        "published": published,
    }
    if report is not None:
        metadata |= {
            "rows": report.rows,
            "engine": report.engine,
            "seconds": round(report.seconds, 3),
            "failed_rules": len(report.failures),
        }
        if report.failures:
            metadata["failures"] = dg.MetadataValue.md(_failures_md(report))
            samples = {f.rule_id: f.samples for f in report.failures if f.samples}
            metadata["samples"] = dg.MetadataValue.json(samples)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=report is not None and report.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None if report is None else report.summary()[:2000],
    )


def blocked_result(key: dg.AssetKey, reason: str) -> dg.AssetCheckResult:
    """The contract check of a port not audited because an input it was built from was refused."""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"published": False},
        description=reason,
    )
