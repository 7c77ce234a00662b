"""Governance findings in the Dagster UI: one non-blocking ``governance`` check per product port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import OutputPort
from mesh_platform.governance.model import Finding, Severity
from mesh_platform.settings import MeshPaths

CHECK_NAME = "governance"
MAX_ROWS = 50


def product_keys(domain: Domain) -> dict[dg.AssetKey, str]:
    """Asset key of every output port -> the product publishing it (dbt: its model's key)."""
    return {
        dg.AssetKey([domain.name, _asset_name(port)]): product.name
        for product in domain.products.values()
        for port in product.output_ports
    }


def _asset_name(port: OutputPort) -> str:
    """A dbt port is its model's asset; a model's predictions port is named after the port."""
    return port.model if port.producer == "dbt" and port.model else port.name


def findings_md(findings: list[Finding]) -> str:
    """Findings as a Markdown table (severity, policy, where, message, fix)."""
    lines = ["| severity | policy | where | message | fix |", "|---|---|---|---|---|"]
    for f in findings[:MAX_ROWS]:
        cells = [f.severity.name, f.policy, f"{f.file} {f.field}".strip(), f.message, f.fix]
        lines.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    if len(findings) > MAX_ROWS:
        lines.append(f"\n{len(findings) - MAX_ROWS} more: run `mesh govern`")
    return "\n".join(lines)


def check_result(key: dg.AssetKey, product: str, findings: list[Finding]) -> dg.AssetCheckResult:
    """Failed (ERROR) on any error finding, failed (WARN) on warnings only, else passed."""
    worst = max((f.severity for f in findings), default=Severity.info)
    severity = (
        dg.AssetCheckSeverity.ERROR if worst >= Severity.error else dg.AssetCheckSeverity.WARN
    )
    counts = {s.name: sum(f.severity is s for f in findings) for s in Severity}
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=worst < Severity.warning,
        severity=severity,
        metadata={
            "product": product,
            **{f"{name}s": n for name, n in counts.items()},
            "findings": dg.MetadataValue.md(findings_md(findings)),
            "findings_json": dg.MetadataValue.json([f.to_dict() for f in findings]),
        },
        description=f"{counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} note(s) from the mesh's policies (`mesh govern --domain "
        f"{key.path[0]}`)",
    )


def evaluate(domain: Domain, paths: MeshPaths, keys: dict[dg.AssetKey, str]) -> Iterator:
    """Run the static policies for the domain and yield one result per port asset.

    Static: the repository only (a MESH_HOME that does not exist), so a check never opens the
    lineage store or ports that another process is writing; `mesh govern` and the audit report
    add the runtime policies.
    """
    from mesh_platform.governance.engine import run_governance

    static = MeshPaths(root=paths.root, home=Path(paths.home) / ".governance-static-none")
    result = run_governance(paths.root, domain=domain.name, paths=static)
    for key, product in keys.items():
        yield check_result(key, product, result.for_product(domain.name, product))


def build_governance_checks(
    domain: Domain, paths: MeshPaths, present: set[dg.AssetKey]
) -> list[dg.AssetChecksDefinition]:
    """One multi-asset check evaluating every port asset of the domain that is defined."""
    keys = {k: p for k, p in product_keys(domain).items() if k in present}
    if not keys:
        return []
    specs = [
        dg.AssetCheckSpec(CHECK_NAME, asset=key, blocking=False,
                          description="Findings of the mesh's governance policies for this "
                          "product (owner, docs, contract, PII, access, ...).")
        for key in keys
    ]  # fmt: skip

    @dg.multi_asset_check(specs=specs, name=f"{domain.name}_governance", can_subset=True)
    def governance(context):  # no hint: see the module rules on Dagster's context inspection
        selected = set(context.selected_asset_check_keys)
        for result in evaluate(domain, paths, keys):
            if dg.AssetCheckKey(result.asset_key, CHECK_NAME) in selected:
                yield result

    return [governance]


def with_governance_checks(
    defs: dg.Definitions, domain: Domain, paths: MeshPaths
) -> dg.Definitions:
    """A domain's Definitions plus its governance checks (the factory's one-line hook)."""
    present: set[dg.AssetKey] = set()
    for a in defs.assets or []:
        if isinstance(a, dg.AssetsDefinition):
            present |= set(a.keys)
        elif isinstance(a, dg.AssetSpec):
            present.add(a.key)
    checks = build_governance_checks(domain, paths, present)
    return dg.Definitions.merge(defs, dg.Definitions(asset_checks=checks)) if checks else defs
