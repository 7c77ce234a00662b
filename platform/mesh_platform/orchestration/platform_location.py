"""The platform's own code location: the governance audit report and every port's freshness."""

import os
from pathlib import Path
from typing import Any

import dagster as dg

from mesh_platform.catalog.freshness_check import freshness_checks, freshness_sensor
from mesh_platform.governance.engine import GovernanceResult, run_governance
from mesh_platform.governance.report import render_html
from mesh_platform.lineage import facets as F
from mesh_platform.lineage.emit import base_event, emit, lineage_enabled, new_run_id, now
from mesh_platform.lineage.naming import FILE_NAMESPACE
from mesh_platform.settings import MeshPaths, mesh_paths

GROUP = "mesh_platform"
JOB = ("mesh.platform", "governance.audit_report")


def report_path(paths: MeshPaths) -> Path:
    """Where the audit report is written."""
    return paths.home / "reports" / "governance.html"


def write_report(paths: MeshPaths) -> tuple[GovernanceResult, Path]:
    """Judge the whole mesh (static and runtime policies) and write the HTML report atomically."""
    result = run_governance(paths.root, paths=paths)
    target = report_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(render_html(result, paths), encoding="utf-8")
    os.replace(tmp, target)  # a reader sees the old report or the new one
    return result, target


def audit_events(result: GovernanceResult, report: Path) -> list[dict[str, Any]]:
    """START and COMPLETE events of the audit; COMPLETE carries the meshGovernanceAudit facet."""
    run_id, start = new_run_id(), now()
    begin = base_event("START", run_id, JOB, start)
    done = base_event("COMPLETE", run_id, JOB)
    done["run"]["facets"]["meshGovernanceAudit"] = F.governance_audit(
        result.to_dict(), report.as_uri()
    )
    done["job"]["facets"]["jobType"] = F.job_type("GOVERNANCE_AUDIT")
    done["outputs"] = [{"namespace": FILE_NAMESPACE, "name": str(report)}]
    return [begin, done]


@dg.asset(
    key=["governance", "audit_report"],
    group_name=GROUP,
    kinds={"html"},
    owners=["team:platform"],
    tags={"mesh/layer": "governance"},
    description="Mesh-wide governance audit: scorecard per domain, findings with fixes, contract "
    "versions, PII map, lineage picture and model gates, written as one HTML page.",
)
def audit_report(context):  # no hint: Dagster inspects `context`
    """Run every policy over the mesh, write the report, log the verdict as OpenLineage."""
    paths = mesh_paths()
    result, path = write_report(paths)
    if lineage_enabled():
        try:
            emit(paths, audit_events(result, path))
        except Exception as exc:  # noqa: BLE001 - lineage is reported, never fatal
            context.log.warning(f"governance lineage not emitted: {exc!r}")
    errors = sum(f.severity.name == "error" for f in result.findings)
    scorecard = result.scorecard()
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "dagster/uri": dg.MetadataValue.url(path.as_uri()),
            "verdict": "FAIL" if result.exit_code else "PASS",
            "findings": len(result.findings),
            "errors": errors,
            "scorecard": dg.MetadataValue.md(_scorecard_md(scorecard)),
        }
    )


def _scorecard_md(scorecard: dict[str, dict[str, Any]]) -> str:
    lines = ["| domain | passed | failed | errors | warnings |", "|---|---|---|---|---|"]
    for domain, card in scorecard.items():
        failed = ", ".join(card["failed"]) or "-"
        lines.append(f"| {domain} | {len(card['passed'])} | {failed} | "
                     f"{card['counts']['error']} | {card['counts']['warning']} |")  # fmt: skip
    return "\n".join(lines)


def _definitions(paths: MeshPaths) -> dg.Definitions:
    """The audit report, and the ``freshness`` check on every port with the sensor judging it."""
    checks = freshness_checks(paths)
    return dg.Definitions(
        assets=[audit_report],
        asset_checks=[checks] if checks else [],
        sensors=[freshness_sensor(paths)] if checks else [],
        jobs=[dg.define_asset_job("governance_audit", selection=[audit_report])],
        executor=dg.in_process_executor,
    )


defs = _definitions(mesh_paths())
