"""Contracts as blocking Dagster asset checks: the spec per port, the result from a validation."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mesh_platform.contracts.odcs import Contract, load_contract, port_contract_name
from mesh_platform.contracts.validate import ValidationReport
from mesh_platform.descriptors.errors import SpecError, SpecErrors

CHECK_NAME = "contract"
MAX_FAILURES_SHOWN = 20


def port_contract_path(
    contracts_dir: Path, domain: str, port: str, major: int = 1, newest_major: int | None = None
) -> Path:
    """Where the ODCS contract of one major of an output port lives.

    Args:
        contracts_dir: the repository's contracts/ folder.
        domain: the producing domain.
        port: the output port's name.
        major: the port's major version.
        newest_major: the newest major the product declares (None: ``major`` is the newest).

    Returns:
        ``<domain>/<port>.odcs.yaml`` for the newest major, ``<domain>/<port>.v<major>.odcs.yaml``
        for an older one still published beside it.

    """
    return contracts_dir / domain / port_contract_name(port, major, newest_major)


def load_port_contract(
    contracts_dir: Path, domain: str, port: str, version: int = 1
) -> Contract | None:
    """The contract of one major of a port, or None when it has none (allowed for private ports).

    An older major's own file wins; else the unversioned file, which must then be of that major.

    Raises:
        SpecErrors: the unversioned file is another major's: auditing against it would be wrong.

    """
    path = port_contract_path(contracts_dir, domain, port, version, newest_major=version + 1)
    if not path.exists():
        path = port_contract_path(contracts_dir, domain, port, version)
    if not path.exists():
        return None
    contract = load_contract(path)
    if contract.port_version != version:
        older = port_contract_path(contracts_dir, domain, port, version, newest_major=version + 1)
        msg = f"holds v{contract.port_version}, not v{version}: v{version}'s contract is {older}"
        raise SpecErrors([SpecError(path, "customProperties.portVersion", msg)])
    return contract


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
