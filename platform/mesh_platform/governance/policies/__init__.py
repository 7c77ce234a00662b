"""The registry of global policies: one module per policy, each exporting ``POLICY``.

Order is the order reports list them. A domain's governance.yaml may raise these, never lower or
disable them (see ``governance.federation``).
"""

from __future__ import annotations

from mesh_platform.governance.model import Policy
from mesh_platform.governance.policies import (
    access,
    blocking_check,
    classification,
    decisions,
    documentation,
    freshness,
    lineage_complete,
    model_gates,
    naming,
    owner,
    pii,
    port_contract,
    semver,
)

GLOBAL_POLICIES: list[Policy] = [
    owner.POLICY,
    documentation.POLICY,
    port_contract.POLICY,
    classification.POLICY,
    decisions.POLICY,
    pii.POLICY,
    access.POLICY,
    semver.POLICY,
    freshness.POLICY,
    blocking_check.POLICY,
    naming.POLICY,
    lineage_complete.POLICY,
    model_gates.POLICY,
]


def policy_by_id(policy_id: str) -> Policy:
    """A global policy by id.

    Raises:
        KeyError: naming the known ids.

    """
    for policy in GLOBAL_POLICIES:
        if policy.id == policy_id:
            return policy
    raise KeyError(f"no global policy '{policy_id}': known {[p.id for p in GLOBAL_POLICIES]}")
