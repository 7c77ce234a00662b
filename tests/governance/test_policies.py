"""Each global policy fails on a fixture broken in one place, naming the file, field and fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from mesh_platform.governance.model import Severity
from mesh_platform.governance.policies import GLOBAL_POLICIES

from tests.governance.conftest import failing, only
from tests.support import MeshCopy

DR = "domains/sales/products/daily_revenue.yaml"
DR_CONTRACT = "contracts/sales/daily_revenue.odcs.yaml"
CHURN = "domains/personalization/products/churn_model.yaml"
# Policies written and tested elsewhere (tests/governance/test_pii*, test_access*).
OTHERS = {"pii", "access"}


@dataclass(frozen=True)
class Case:
    """Break one thing; expect one finding of ``policy`` at ``file`` / ``field``."""

    policy: str
    breaks: Callable[[MeshCopy], object]
    file: str
    field: str
    message: str
    severity: Severity = Severity.error


def _drop_classification(c: dict) -> None:
    del c["schema"][0]["properties"][4]["classification"]


def _undecided_type(c: dict) -> None:
    mark = {"property": "typeDecision", "value": "TODO(decide): HUGEINT reaches Parquet as DOUBLE"}
    c["schema"][0]["properties"][4]["customProperties"] = [mark]


def _only_schema_checks(c: dict) -> None:
    table = c["schema"][0]
    table.pop("quality")
    for prop in table["properties"]:
        for key in ("required", "primaryKey", "primaryKeyPosition", "logicalTypeOptions"):
            prop.pop(key, None)


def _model_drift_missing(m: MeshCopy) -> None:
    m.edit(CHURN, lambda d: d["model"].pop("drift"))


CASES = [
    Case("owner", lambda m: m.edit("domains/web/domain.yaml",
                                   lambda d: d.update(owners=["team:web", "todo@retail.example"])),
         "domains/web/domain.yaml", "owners[1]", "'todo@retail.example' is a placeholder"),
    Case("owner", lambda m: m.edit("domains/web/domain.yaml",
                                   lambda d: d.update(owners=["web team"])),
         "domains/web/domain.yaml", "owners", "invalid owner"),
    Case("owner", lambda m: m.edit("domains/web/domain.yaml",
                                   lambda d: d.update(team="TODO: the team that owns web")),
         "domains/web/domain.yaml", "team", "team is a placeholder"),
    Case("documentation", lambda m: m.edit(DR, lambda d: d.update(description="TODO: describe")),
         DR, "description", "product description is still a TODO placeholder"),
    Case("documentation", lambda m: m.edit(DR_CONTRACT, lambda c: c["schema"][0]["properties"][2]
         .update(description="TODO: what is this")), DR_CONTRACT,
         "schema[0].properties[2].description", "public column 'orders' description"),
    Case("port-contract", lambda m: (m.root / DR_CONTRACT).unlink(), DR, "output_ports[0]",
         "public output port has no contract contracts/sales/daily_revenue.odcs.yaml"),
    Case("port-contract", lambda m: m.edit(DR_CONTRACT, lambda c: c.update(version="2.0.0")),
         DR_CONTRACT, "version", "major 2 but"),
    Case("classification", lambda m: m.edit(DR_CONTRACT, _drop_classification), DR_CONTRACT,
         "schema[0].properties[4].classification", "column not classified"),
    Case("decisions", lambda m: m.edit(DR_CONTRACT, _undecided_type), DR_CONTRACT,
         "schema[0].properties[4].customProperties[0].value", "undecided: HUGEINT"),
    Case("freshness", lambda m: (m.edit(DR_CONTRACT, lambda c: c["slaProperties"][0]
         .update(value=48)), m.edit(DR, lambda d: d.setdefault("slos", {})
         .update(freshness_hours=24))), DR_CONTRACT, "slaProperties.freshness",
         "contract promises 48 h but domains/sales/products/daily_revenue.yaml"),
    Case("freshness", lambda m: m.edit(DR_CONTRACT, lambda c: c.pop("slaProperties")),
         DR_CONTRACT, "slaProperties", "needs a 'freshness' property"),
    Case("blocking-check", lambda m: m.edit(DR_CONTRACT, _only_schema_checks), DR_CONTRACT,
         "schema[0]", "port sales/daily_revenue v1 has no blocking check on its data"),
    Case("naming", lambda m: (m.root / "domains/web/dbt/models/staging/stg_tracking__events.sql")
         .rename(m.root / "domains/web/dbt/models/staging/stg_tracking_events.sql"),
         "domains/web/dbt/models/staging/stg_tracking_events.sql", "",
         "staging model 'stg_tracking_events' is not stg_<source>__<entity>", Severity.warning),
    Case("model-gates", _model_drift_missing, CHURN, "model.drift",
         "no drift monitoring declared"),
    Case("model-gates", lambda m: m.edit(CHURN, lambda d: d["model"]["gates"].update(f1="high")),
         CHURN, "model.gates", "gate for metric 'f1' is malformed"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.policy}:{c.field or c.file}")
def test_policy_fails_on_its_fixture(mesh: MeshCopy, case: Case):
    case.breaks(mesh)
    found = [f for f in failing(mesh.govern(), case.policy) if f.file == case.file]
    assert [f.field for f in found] == [case.field], [str(f) for f in found]
    finding = found[0]
    assert case.message in finding.message
    assert finding.severity is case.severity
    assert finding.fix and finding.domain == case.file.split("/")[1]


def test_every_policy_has_a_failing_fixture():
    covered = {c.policy for c in CASES} | {"semver", "lineage-complete"}  # those: own test files
    assert {p.id for p in GLOBAL_POLICIES} - OTHERS <= covered


def test_owner_finding_claims_the_descriptor_error(mesh: MeshCopy):
    """A malformed owner is reported as a policy finding, so `mesh govern` does not exit 2."""
    mesh.edit(DR, lambda d: d.update(owners=["sales team"]))  # no other product reads it
    result = mesh.govern()
    assert result.spec_errors == []
    finding = only(result, "owner")
    assert (finding.product, finding.file, finding.field) == ("daily_revenue", DR, "owners")


def test_findings_of_a_domain_filter(mesh: MeshCopy):
    mesh.edit(DR, lambda d: d.update(description="TODO: describe"))
    mesh.edit("domains/web/domain.yaml", lambda d: d.update(owners=["team:todo"]))
    result = mesh.govern(domain="web")
    assert {f.domain for f in result.findings} == {"web"}
    assert list(result.effective) == ["web"]
    assert only(result, "owner").message.startswith("owner 'team:todo' is a placeholder")


def test_for_product_and_scorecard(mesh: MeshCopy):
    mesh.edit(DR, lambda d: d.update(description="TODO: describe"))
    result = mesh.govern()
    assert [f.policy for f in result.for_product("sales", "daily_revenue")] == ["documentation"]
    card = result.scorecard()["sales"]
    assert "documentation" in card["failed"] and "documentation" not in card["passed"]
    assert card["counts"]["error"] == 1
    assert result.exit_code == 1
