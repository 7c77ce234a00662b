"""The platform's own code location: the governance/audit_report asset and its lineage event."""

from __future__ import annotations

import json

import dagster as dg
import yaml
from mesh_platform.lineage.log import read_events
from mesh_platform.lineage.validation import validate_event

from tests.openlineage_spec import require_spec
from tests.support import REPO


def test_workspace_lists_the_platform_location():
    workspace = yaml.safe_load((REPO / "dagster_project" / "workspace.yaml").read_text())
    entries = [next(iter(e.values())) for e in workspace["load_from"]]
    platform = [e for e in entries if e["location_name"] == "mesh_platform"]
    assert (
        platform and platform[0]["module_name"] == "mesh_platform.orchestration.platform_location"
    )


def test_audit_report_asset_writes_report_and_emits_a_valid_governance_event(mesh, monkeypatch):
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(mesh.root))
    monkeypatch.setenv("MESH_HOME", str(mesh.home))
    mesh.edit(
        "domains/web/products/product_interactions.yaml",
        lambda d: d.__setitem__("owners", ["team:todo"]),
    )
    from mesh_platform.orchestration.platform_location import audit_report, defs

    dg.Definitions.validate_loadable(defs)
    result = dg.materialize([audit_report])
    assert result.success
    (mat,) = result.asset_materializations_for_node("governance__audit_report")
    assert mat.asset_key == dg.AssetKey(["governance", "audit_report"])
    report = mesh.home / "reports" / "governance.html"
    assert mat.metadata["report"].value == str(report) and report.exists()
    assert mat.metadata["verdict"].value == "FAIL" and mat.metadata[
        "errors"
    ] == dg.IntMetadataValue(1)
    assert "| web |" in str(mat.metadata["scorecard"].value)

    events = [e.event for e in read_events(mesh.home / "lineage")]
    complete = [e for e in events if e["eventType"] == "COMPLETE"]
    assert len(events) == 2 and len(complete) == 1
    facet = complete[0]["run"]["facets"]["meshGovernanceAudit"]
    assert facet["exitCode"] == 1 and "owner" in facet["scorecard"]["web"]["failed"]
    assert any(f["policy"] == "owner" and f["domain"] == "web" for f in facet["findings"])
    require_spec(monkeypatch, "the governance events' validity against the OpenLineage spec")
    for event in events:
        assert validate_event(json.loads(json.dumps(event))) == []
