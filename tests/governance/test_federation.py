"""Federation: a domain may raise global policies and add built-in ones, never weaken them."""

from __future__ import annotations

from mesh_platform.governance.model import Severity

from tests.governance.conftest import failing, only
from tests.support import MeshCopy

WEB_GOV = "domains/web/governance.yaml"
STG = "domains/web/dbt/models/staging/stg_tracking__events.sql"


def _misname_staging(mesh: MeshCopy) -> None:
    for ext in (".sql", ".yml"):
        old = mesh.root / STG.replace(".sql", ext)
        old.rename(old.with_name(old.name.replace("__", "_")))


def test_raising_a_severity_applies_to_that_domain_only(mesh: MeshCopy):
    _misname_staging(mesh)
    assert only(mesh.govern(), "naming").severity is Severity.warning
    mesh.write(WEB_GOV, "severities:\n  naming: error\n")
    result = mesh.govern()
    assert only(result, "naming").severity is Severity.error
    assert result.exit_code == 1
    web = {p.id: p for p in result.effective["web"]}
    assert (web["naming"].severity, web["naming"].origin) == (Severity.error, "raised")
    sales_naming = next(p for p in result.effective["catalog"] if p.id == "naming")
    assert sales_naming.severity is Severity.warning


def test_lowering_a_severity_is_a_finding_and_not_applied(mesh: MeshCopy):
    mesh.edit("domains/web/domain.yaml", lambda d: d.update(owners=["team:todo"]))
    mesh.write(WEB_GOV, "severities:\n  owner: warning\n")
    result = mesh.govern()
    weakened = only(result, "federation")
    assert (weakened.file, weakened.field, weakened.severity) == (
        WEB_GOV, "severities.owner", Severity.error)  # fmt: skip
    assert "lowers global policy 'owner' from error to warning" in weakened.message
    assert only(result, "owner").severity is Severity.error  # still enforced at its own level


def test_disabling_a_global_policy_is_a_finding(mesh: MeshCopy):
    _misname_staging(mesh)
    mesh.write(WEB_GOV, "disable: [naming]\n")
    result = mesh.govern()
    finding = only(result, "federation")
    assert (finding.field, finding.domain) == ("disable[0]", "web")
    assert "tries to disable global policy 'naming'" in finding.message
    assert only(result, "naming").severity is Severity.warning  # not disabled
    assert result.exit_code == 1


def test_added_policy_judges_the_domains_products(mesh: MeshCopy):
    mesh.write("domains/sales/governance.yaml",
               "policies:\n  - use: require_availability_slo\n    params: {min: 99}\n")  # fmt: skip
    finding = only(mesh.govern(), "require-availability-slo")
    assert (finding.file, finding.field) == (
        "domains/sales/products/daily_revenue.yaml", "slos.availability")  # fmt: skip
    assert finding.message == "no availability SLO declared"


def test_bad_governance_files_name_file_and_field(mesh: MeshCopy):
    mesh.write(WEB_GOV, "severities:\n  nosuch: error\npolicies:\n  - use: min_tier\n"
               "    params: {tier: platinum}\n  - use: be_nice\nextra: 1\n")  # fmt: skip
    fields = sorted(f.field for f in failing(mesh.govern(), "federation"))
    assert fields == ["extra"]  # an invalid file is refused whole, each problem named
    mesh.write(WEB_GOV, "severities:\n  nosuch: error\npolicies:\n  - use: min_tier\n"
               "    params: {tier: platinum}\n  - use: be_nice\n")  # fmt: skip
    found = {f.field: f.message for f in failing(mesh.govern(), "federation")}
    assert set(found) == {"severities.nosuch", "policies[0].params.tier", "policies[1].use"}
    assert found["policies[1].use"] == "no built-in domain policy 'be_nice'"
