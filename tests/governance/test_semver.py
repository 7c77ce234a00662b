"""semver: a changed contract is judged by contracts.diff against the base branch."""

from __future__ import annotations

import pytest
from mesh_platform.governance.model import Severity

from tests.governance.conftest import failing, only
from tests.support import MeshCopy, git

CONTRACT = "contracts/sales/daily_revenue.odcs.yaml"


@pytest.fixture
def published(mesh: MeshCopy, monkeypatch) -> MeshCopy:
    """The mesh copy committed on a `main` branch: what consumers were promised."""
    monkeypatch.delenv("MESH_GOVERN_BASE", raising=False)
    git(mesh.root, "init", "-q", "-b", "main")
    git(mesh.root, "add", ".")
    git(mesh.root, "commit", "-q", "-m", "published")
    return mesh


def _drop_customers(c: dict) -> None:
    c["schema"][0]["properties"] = [
        p for p in c["schema"][0]["properties"] if p["name"] != "customers"
    ]


def test_unchanged_contracts_pass(published: MeshCopy):
    assert [str(f) for f in published.govern().findings if f.policy == "semver"] == []


def test_change_without_a_version_bump_fails(published: MeshCopy):
    published.edit(CONTRACT, lambda c: c["schema"][0]["properties"][2].update(unique=True))
    finding = only(published.govern(), "semver")
    assert (finding.file, finding.field, finding.product) == (CONTRACT, "version", "daily_revenue")
    assert "a changed contract needs a higher version" in finding.message
    assert "mesh contracts diff git:main:" in finding.fix


def test_breaking_change_with_a_minor_bump_fails(published: MeshCopy):
    published.edit(CONTRACT, _drop_customers)
    published.edit(CONTRACT, lambda c: c.update(version="1.1.0"))
    finding = only(published.govern(), "semver")
    assert "breaking change(s) need a major version bump (1.0.0 -> 1.1.0)" in finding.message
    assert finding.severity is Severity.error


def test_compatible_change_with_a_minor_bump_passes(published: MeshCopy):
    published.edit(CONTRACT, lambda c: c.update(version="1.1.0"))
    published.edit(CONTRACT, lambda c: c["description"].update(usage="Dashboards and finance."))
    assert failing(published.govern(), "semver") == []


def test_without_a_base_branch_nothing_is_published_yet(mesh: MeshCopy):
    notes = [f for f in mesh.govern().findings if f.policy == "semver"]
    assert notes and {f.severity for f in notes} == {Severity.info}
    assert "nothing published yet" in notes[0].message
