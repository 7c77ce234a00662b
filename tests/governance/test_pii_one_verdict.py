"""Governance and `mesh lineage pii` give one verdict on a PII column of a public port."""

from __future__ import annotations

import pytest
from mesh_platform.access.masking import pii_verdict
from mesh_platform.contracts.odcs import load_contracts
from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.lineage.pii import permitted_columns, scan
from mesh_platform.lineage.store import open_store

from tests.governance.conftest import MeshCopy
from tests.governance.test_pii import PRODUCT, PURPOSE, _classify_city_pii


def _lineage_city(mesh: MeshCopy):
    """What `mesh lineage pii` says of customer_profiles.city."""
    paths = mesh.paths
    paths.lineage.mkdir(parents=True, exist_ok=True)
    contracts, _ = load_contracts(paths.contracts)
    domains, _ = load_mesh(paths.domains)
    with open_store(paths.lineage) as store:
        report = scan(store, paths, contracts, permitted_columns(domains))
    return next(r for r in report.reached if r.column == "city" and r.port)


def _governance_city(mesh: MeshCopy):
    found = [f for f in mesh.govern("customers").findings
             if f.policy == "pii" and "customer_profiles.city" in f.message]  # fmt: skip
    assert len(found) == 1, found
    return found[0]


def test_pii_hashed_at_publish_is_masked_for_both(mesh):
    _classify_city_pii(mesh)
    reach, finding = _lineage_city(mesh), _governance_city(mesh)
    assert not reach.flagged and reach.reason == "hashed at publish (salted SHA-256)"
    assert finding.severity.name == "warning" and reach.reason in finding.message


def test_pii_with_a_permitted_purpose_passes_both(mesh):
    _classify_city_pii(mesh)
    mesh.edit(PRODUCT, lambda d: d.__setitem__("pii_purpose", PURPOSE))
    reach, finding = _lineage_city(mesh), _governance_city(mesh)
    assert not reach.flagged and reach.reason == "published for an approved purpose"
    assert finding.severity.name == "info"


@pytest.mark.parametrize(
    ("classification", "permitted", "masked", "flagged"),
    [("pii", (), True, False), ("pii", ("c",), False, False), ("pii-masked", (), True, False),
     ("internal", (), False, True), (None, (), False, True)],
)  # fmt: skip
def test_one_verdict_table(classification, permitted, masked, flagged):
    verdict = pii_verdict(classification, "c", permitted)
    assert (verdict.masked, verdict.flagged) == (masked, flagged)
    assert verdict.hashed_at_publish == (classification == "pii" and not permitted)
