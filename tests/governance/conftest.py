"""Governance fixtures: the demo mesh copy as `mesh`, and the failing findings of a policy."""

from __future__ import annotations

import pytest
from mesh_platform.governance.engine import GovernanceResult
from mesh_platform.governance.model import Finding

from tests.support import MeshCopy

# A dbt source reading another domain's private port (customers/customer_master).
PRIVATE_SOURCE = """version: 2
sources:
  - name: customers_private
    tables:
      - name: customer_master
        meta:
          mesh_port: customers/customer_master
          external_location: "read_parquet('lake/customers/customer_master/v1/current/*.parquet')"
"""


@pytest.fixture
def mesh(demo_copy: MeshCopy) -> MeshCopy:
    """The demo mesh copied (tests/conftest.py), for a test to break."""
    return demo_copy


def failing(result: GovernanceResult, policy: str) -> list[Finding]:
    """Warning and error findings of one policy."""
    return [f for f in result.findings if f.policy == policy and f.severity.name != "info"]


def only(result: GovernanceResult, policy: str) -> Finding:
    """The single failing finding of ``policy``; fails the test with all findings otherwise."""
    found = failing(result, policy)
    assert len(found) == 1, [str(f) for f in result.findings]
    return found[0]
