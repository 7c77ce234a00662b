"""The demo mesh passes every policy: no errors, no warnings, nothing left undescribed."""

from __future__ import annotations

from mesh_platform.governance.engine import run_governance
from mesh_platform.governance.model import Severity
from mesh_platform.governance.policies import GLOBAL_POLICIES
from mesh_platform.settings import MeshPaths

from tests.support import REPO


def test_demo_mesh_passes_every_policy(tmp_path):
    result = run_governance(REPO, paths=MeshPaths(root=REPO, home=tmp_path / "home"))
    assert [str(f) for f in result.findings if f.severity > Severity.info] == []
    assert result.spec_errors == [] and result.exit_code == 0
    cards = result.scorecard()
    assert set(cards) == {"catalog", "customers", "personalization", "sales", "web"}
    for card in cards.values():
        assert {p.id for p in GLOBAL_POLICIES} <= set(card["passed"])
    sales = {p.id: p for p in result.effective["sales"]}
    assert sales["naming"].origin == "raised"
    assert {"max-freshness-hours", "min-tier", "required-tags"} <= set(sales)
